import { describe, expect, it } from 'vitest';
import { catalogs, en as ruleEn, message } from '../../lambdas/core/messages';
import { setLanguage, t, uiCatalogs } from '../../web/src/i18n';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('portal catalogs', () => {
  it('every language has every UI text, with the same placeholders as English', () => {
    const keys = Object.keys(uiCatalogs.en).sort();
    for (const [language, catalog] of Object.entries(uiCatalogs)) {
      expect(Object.keys(catalog).sort(), language).toEqual(keys);
      for (const key of keys) {
        const text = catalog[key as keyof typeof catalog];
        expect(text.trim().length, `${language}.${key}`).toBeGreaterThan(0);
        expect(placeholders(text), `${language}.${key}`).toEqual(placeholders(uiCatalogs.en[key as keyof typeof uiCatalogs.en]));
      }
    }
  });

  it('nl, de and fr translate every rule and API message, keeping its placeholders', () => {
    for (const [language, catalog] of Object.entries(catalogs)) {
      for (const [code, english] of Object.entries(ruleEn)) {
        const text = catalog[code as keyof typeof ruleEn];
        expect(text, `${language}.${code} is missing`).toBeTypeOf('string');
        expect(placeholders(text!), `${language}.${code}`).toEqual(placeholders(english));
      }
    }
  });

  it('English rule messages stay exactly as DESIGN.md writes them', () => {
    expect(message('ATTACHMENT_WITHOUT_DICOM', [], 'en')).toBe('You can only upload non-DICOM files if you also upload at least one DICOM file');
    expect(message('SESSION_SIZE_LIMIT', [], 'en')).toBe('Total file size exceeds the limit');
    expect(message('UNLINKED_ATTACHMENTS', [], 'en')).toBe('Please add the following files to a study or remove them');
    expect(message('ADD_SELECTED_TO_STUDY', [2], 'en')).toBe('Add 2 selected files to study');
    expect(message('ADD_SELECTED_TO_STUDY', [2], 'de')).toBe('2 ausgewählte Dateien einer Untersuchung hinzufügen');
  });

  it('uses the singular form where the language says "one"', () => {
    setLanguage('en');
    expect(t('scan.done', { count: 1 })).toBe('1 file added.');
    expect(t('scan.done', { count: 0 })).toBe('0 files added.');
    setLanguage('fr');
    expect(t('scan.done', { count: 0 })).toBe('0 fichier ajouté.');
    expect(t('scan.done', { count: 2 })).toBe('2 fichiers ajoutés.');
    setLanguage('en');
  });
});
