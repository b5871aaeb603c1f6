import { describe, expect, it } from 'vitest';
import { formatMessage, message } from '../../lambdas/core/messages';

describe('message catalog', () => {
  it('holds the exact rule texts from DESIGN.md', () => {
    expect(message('ATTACHMENT_WITHOUT_DICOM')).toBe('You can only upload non-DICOM files if you also upload at least one DICOM file');
    expect(message('SESSION_SIZE_LIMIT')).toBe('Total file size exceeds the limit');
    expect(message('UNLINKED_ATTACHMENTS')).toBe('Please add the following files to a study or remove them');
    expect(message('ATTACHMENT_LIMIT', { x: 11, max: 10 })).toBe(
      "Currently added '11' non-DICOM files. Adding these would surpass the maximum of 10 non-DICOM files that can be added to a study.",
    );
    expect(message('ADD_SELECTED_TO_STUDY', [2])).toBe('Add 2 selected files to study');
  });
  it('formats positional and named placeholders and leaves unknown ones', () => {
    expect(formatMessage('{0} and {1}', ['a', 'b'])).toBe('a and b');
    expect(formatMessage('{x}/{y}', { x: 1 })).toBe('1/{y}');
  });
  it('gives each language its own text', () => {
    expect(message('SESSION_SIZE_LIMIT', [], 'nl')).toBe('De totale bestandsgrootte overschrijdt de limiet');
    expect(message('UNLINKED_ATTACHMENTS', [], 'fr')).toBe('Veuillez ajouter les fichiers suivants à un examen ou les retirer');
  });
});
