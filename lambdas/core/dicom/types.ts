/** Keyword-named header attributes. Strings are decoded with the file's SpecificCharacterSet. PHI: never log them. */
export interface HeaderFields {
  transferSyntaxUid?: string;
  mediaStorageSopClassUid?: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  modality?: string;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  studyDate?: string;
  accessionNumber?: string;
  studyDescription?: string;
  specificCharacterSet?: string;
  numberOfFrames?: number;
  rows?: number;
  columns?: number;
}

/** The numeric fields; when their stored text is not a single integer it lands in `invalidValues`, never in `fields`. */
export type NumericField = 'numberOfFrames' | 'rows' | 'columns';

export interface CompleteHeader {
  status: 'complete';
  isDicom: true;
  isDicomDir: boolean;
  hasPreamble: boolean;
  /** The file ends before its (defined-length) Pixel Data does: a partial copy. pydicom reads such headers, so we
   * return the header too; an upload check should reject the file. */
  pixelDataTruncated: boolean;
  /** True when the dataset is deflated (1.2.840.10008.1.2.1.99). */
  deflated: boolean;
  fields: HeaderFields;
  /** The raw stored text of numeric attributes that are present but not a single integer (e.g. NumberOfFrames "1A", or ""). */
  invalidValues: Partial<Record<NumericField, string>>;
  /** Bytes of the prefix actually needed: up to the end of the Pixel Data element header, or to the end of the dataset,
   * or, when the prefix ends after every attribute we read has been passed, to the first element header after them. */
  headerBytes: number;
  /** Offset of the (7FE0,0010) tag when it was reached (not set for deflated files: it is an offset in the inflated stream). */
  pixelDataOffset?: number;
  /** Machine-readable notes, e.g. `INVALID_IS:numberOfFrames`, `IMPLICIT_VR_DESPITE_TRANSFER_SYNTAX`. */
  warnings: string[];
}

export interface NeedMoreBytes {
  status: 'need-more';
  /** The total prefix length to try next: > prefix.length and <= fileSize. */
  bytesNeeded: number;
}

export type HeaderResult = CompleteHeader | NeedMoreBytes;

export type SniffedKind = 'dicom' | 'pdf' | 'jpeg' | 'png' | 'zip' | 'other';
