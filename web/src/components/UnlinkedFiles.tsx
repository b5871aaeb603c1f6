/**
 * Attachments waiting for a study (several studies): select files, press "Add {0} selected files to
 * study", then choose the study. Works by keyboard: focus moves into the choice and back out.
 */
import { useRef, useState } from 'preact/hooks';
import { message } from '../../../lambdas/core/messages';
import { studyLabel } from '../format';
import { currentLanguage, t } from '../i18n';
import type { Evaluation } from '../selection';
import { linkSelected, removeItems, toggleUnlinked } from '../store/files';
import * as s from '../store/state';
import { Icon } from './Icon';

export function UnlinkedFiles({ evaluation }: { evaluation: Evaluation }) {
  const [choosing, setChoosing] = useState(false);
  const addButton = useRef<HTMLButtonElement>(null);
  const unlinked = evaluation.unlinked;
  const selected = s.selectedUnlinked.value;
  const selectedCount = unlinked.filter((i) => selected.has(i.id)).length;
  const refusal = s.linkRefusal.value;
  const close = () => {
    setChoosing(false);
    requestAnimationFrame(() => addButton.current?.focus());
  };
  const choose = (uid: string, index: number) => {
    setChoosing(false);
    // Linked: focus goes to the study the files joined; refused: back to the button, next to the message.
    if (linkSelected(uid)) requestAnimationFrame(() => document.getElementById(`study-${index}-title`)?.focus());
    else requestAnimationFrame(() => addButton.current?.focus());
  };
  return (
    <div aria-live="polite" id="unlinked-live">
      {unlinked.length > 0 ? (
        <div class="unlinked" role="group" aria-labelledby="unlinked-title" data-code="UNLINKED_ATTACHMENTS">
          <h3 id="unlinked-title">{message('UNLINKED_ATTACHMENTS', [], currentLanguage())}</h3>
          <p class="hint">{t('link.selectHint')}</p>
          <ul class="unlinked-files">
            {unlinked.map((item) => (
              <li key={item.id}>
                <input type="checkbox" id={`pick-${item.id}`} checked={selected.has(item.id)} onChange={(e) => toggleUnlinked(item.id, e.currentTarget.checked)} />
                <label for={`pick-${item.id}`} class="file-toggle">
                  <Icon kind={selected.has(item.id) ? 'check' : 'document'} />
                  <span class="file-name">{item.name}</span>
                </label>
                <button type="button" class="link" onClick={() => removeItems([item.id])} aria-label={t('file.removeNamed', { name: item.name })}>
                  {t('file.remove')}
                </button>
              </li>
            ))}
          </ul>
          <button
            type="button"
            ref={addButton}
            id="link-selected"
            class="primary"
            disabled={selectedCount === 0}
            aria-expanded={choosing ? 'true' : 'false'}
            aria-controls="link-choice"
            onClick={() => {
              setChoosing(true);
              requestAnimationFrame(() => (document.querySelector('#link-choice button') as HTMLButtonElement | null)?.focus());
            }}
          >
            {message('ADD_SELECTED_TO_STUDY', [selectedCount], currentLanguage())}
          </button>
          {choosing ? <StudyChoice evaluation={evaluation} onChoose={choose} onClose={close} /> : null}
          {refusal ? (
            <p class="error" data-code={refusal.code}>
              {refusal.message}
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** The studies to link the selected files to; Escape or Cancel closes it. */
function StudyChoice({ evaluation, onChoose, onClose }: { evaluation: Evaluation; onChoose: (uid: string, index: number) => void; onClose: () => void }) {
  return (
    <fieldset
      id="link-choice"
      class="link-choice"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <legend>{t('link.chooseTitle')}</legend>
      {evaluation.studySummaries.map((study, index) => (
        <button type="button" key={study.studyInstanceUid} class="study-choice" onClick={() => onChoose(study.studyInstanceUid, index)}>
          {studyLabel(study)}
        </button>
      ))}
      <button type="button" class="link" onClick={onClose}>
        {t('link.cancel')}
      </button>
    </fieldset>
  );
}
