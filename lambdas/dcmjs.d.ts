/** The part of dcmjs (no types of its own) that delivery uses to encode DICOM elements and files. */
declare module 'dcmjs' {
  export interface DicomJsonElement {
    vr: string;
    Value?: unknown[];
    InlineBinary?: string;
  }
  export type DicomJsonDataset = Record<string, DicomJsonElement>;
  interface WriteBufferStream {
    size: number;
    getBuffer(start?: number, end?: number): ArrayBuffer;
  }
  const dcmjs: {
    log: { setLevel(level: string): void };
    data: {
      WriteBufferStream: new (defaultSize?: number, littleEndian?: boolean) => WriteBufferStream;
      DicomDict: new (meta: DicomJsonDataset) => { dict: DicomJsonDataset; write(options?: Record<string, unknown>): ArrayBuffer };
      DicomMessage: {
        readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: DicomJsonDataset; dict: DicomJsonDataset };
        write(dataset: DicomJsonDataset, stream: WriteBufferStream, transferSyntaxUid: string, options?: Record<string, unknown>): number;
      };
    };
  };
  export default dcmjs;
}
