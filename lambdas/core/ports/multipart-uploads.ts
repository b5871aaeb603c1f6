/** Multipart uploads of one object each: started, signed part by part, listed, completed or aborted. */
export interface StoredPart {
  partNumber: number;
  size: number;
  etag: string;
  /** Base64 SHA-256 S3 verified the part against. */
  sha256?: string;
}

export type CompletionOutcome = 'completed' | 'object-exists' | 'parts-mismatch' | 'no-such-upload';

export interface MultipartUploads {
  /** Starts an upload whose parts carry SHA-256 checksums; answers S3's upload id. */
  create(request: { key: string; contentType: string }): Promise<string>;
  /** A presigned UploadPart for exactly `contentLength` bytes of SHA-256 `sha256` (base64). */
  signPart(request: { key: string; uploadId: string; partNumber: number; contentLength: number; sha256: string; expiresInSeconds: number }): Promise<{
    url: string;
    /** Headers the uploader must send (beyond Content-Length, which browsers set). */
    headers: Record<string, string>;
  }>;
  /** Every part S3 holds, in part-number order; undefined when the upload is gone. */
  listParts(request: { key: string; uploadId: string }): Promise<StoredPart[] | undefined>;
  /** Completes with these parts (their checksums as S3 holds them), never replacing an object (If-None-Match: *). */
  complete(request: { key: string; uploadId: string; parts: StoredPart[] }): Promise<CompletionOutcome>;
  /** Aborts the upload and frees its parts; an upload already gone is not an error. */
  abort(request: { key: string; uploadId: string }): Promise<void>;
}

/** Records on a declared file the multipart upload it travels by. */
export interface MultipartRecorder {
  /** False when the file is no longer RESERVED (removed, or already arrived) or has an upload already. */
  recordUpload(sessionId: string, fileId: string, transfer: { uploadId: string; partSize: number; partCount: number }): Promise<boolean>;
}
