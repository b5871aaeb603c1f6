/**
 * DICOM encoding through dcmjs, the well-kept library OHIF maintains: the elements delivery adds or
 * replaces, and whole Part 10 files for attachments. Our own code only splices and streams bytes.
 */
import dcmjs, { type DicomJsonDataset } from 'dcmjs';

export type { DicomJsonDataset };

dcmjs.log.setLevel('error');

/** Encodes the dataset's elements, sorted by tag, in the transfer syntax's VR and byte order. */
export function encodeElements(dataset: DicomJsonDataset, transferSyntaxUid: string): Uint8Array {
  const stream = new dcmjs.data.WriteBufferStream(256);
  dcmjs.data.DicomMessage.write(dataset, stream, transferSyntaxUid, { allowInvalidVRLength: false });
  return new Uint8Array(stream.getBuffer());
}

/** Our implementation's identity in the file meta information of the files we create. */
export const IMPLEMENTATION_CLASS_UID = '2.25.238409733734918826271208391283549153121';
export const IMPLEMENTATION_VERSION_NAME = 'UPLOADPORTAL1';

/** A Part 10 file: preamble, "DICM", file meta information (its group length computed) and the dataset. */
export function writePart10(meta: { sopClassUid: string; sopInstanceUid: string; transferSyntaxUid: string }, dataset: DicomJsonDataset): Uint8Array {
  const file = new dcmjs.data.DicomDict({
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [meta.sopClassUid] },
    '00020003': { vr: 'UI', Value: [meta.sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [meta.transferSyntaxUid] },
    '00020012': { vr: 'UI', Value: [IMPLEMENTATION_CLASS_UID] },
    '00020013': { vr: 'SH', Value: [IMPLEMENTATION_VERSION_NAME] },
  });
  file.dict = dataset;
  return new Uint8Array(file.write({ allowInvalidVRLength: false }));
}
