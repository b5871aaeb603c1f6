/** Presigned upload URLs. */
export interface UploadSigner {
  /**
   * A presigned PUT for exactly `key`, `contentLength` bytes of SHA-256 `sha256` (base64) and
   * `contentType`, that cannot replace an existing object (If-None-Match: *).
   */
  signPut(request: { key: string; contentLength: number; contentType: string; sha256: string; expiresInSeconds: number }): Promise<{
    url: string;
    /** Headers the uploader must send with the PUT (beyond Content-Length, which browsers set). */
    headers: Record<string, string>;
  }>;
}
