/** Presigned upload URLs. */
export interface UploadSigner {
  /** A presigned PUT for exactly `key` and `contentLength` bytes (and the content type, when given). */
  signPut(request: { key: string; contentLength: number; contentType?: string; expiresInSeconds: number }): Promise<{
    url: string;
    /** Headers the uploader must send with the PUT (beyond Content-Length, which browsers set). */
    headers: Record<string, string>;
  }>;
}
