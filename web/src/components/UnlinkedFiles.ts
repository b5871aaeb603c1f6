/**
 * Attachments waiting for a study (several studies): select files, press "Add {0} selected files to
 * study", then choose the study. Works by keyboard: focus moves into the choice and back out.
 */
import { h } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { message } from '../../../lambdas/core/messages';
import { studyLabel } from '../format';
import { currentLanguage, t } from '../i18n';
import type { Evaluation, SelectedItem } from '../selection';
import { linkSelected, removeItems, toggleUnlinked } from '../store/files';
import * as s from '../store/state';
import { Icon } from './Icon';

export function UnlinkedFiles({ evaluation }: { evaluation: Evaluation }) {
  const [choosing, setChoosing] = useState(false);
  const addButton = useRef<HTMLButtonElement>(null);
  const unlinked = evaluation.unlinked;
  const selectedCount = unlinked.filter((i) => s.selectedUnlinked.value.has(i.id)).length;
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
  const open = () => {
    setChoosing(true);
    requestAnimationFrame(() => (document.querySelector('#link-choice button') as HTMLButtonElement | null)?.focus());
  };
  return h(
    'div',
    { 'aria-live': 'polite', id: 'unlinked-live' },
    unlinked.length > 0
      ? h(
          'div',
          { class: 'unlinked', role: 'group', 'aria-labelledby': 'unlinked-title', 'data-code': 'UNLINKED_ATTACHMENTS' },
          h('h3', { id: 'unlinked-title' }, message('UNLINKED_ATTACHMENTS', [], currentLanguage())),
          h('p', { class: 'hint' }, t('link.selectHint')),
          h('ul', { class: 'unlinked-files' }, unlinked.map((item) => h(UnlinkedFile, { key: item.id, item }))),
          h(
            'button',
            { type: 'button', ref: addButton, id: 'link-selected', class: 'primary', disabled: selectedCount === 0, 'aria-expanded': choosing ? 'true' : 'false', 'aria-controls': 'link-choice', onClick: open },
            message('ADD_SELECTED_TO_STUDY', [selectedCount], currentLanguage()),
          ),
          choosing ? h(StudyChoice, { evaluation, onChoose: choose, onClose: close }) : null,
          refusal ? h('p', { class: 'error', 'data-code': refusal.code }, refusal.message) : null,
        )
      : null,
  );
}

function UnlinkedFile({ item }: { item: SelectedItem }) {
  const selected = s.selectedUnlinked.value.has(item.id);
  return h(
    'li',
    null,
    h('input', { type: 'checkbox', id: `pick-${item.id}`, checked: selected, onChange: (e: Event) => toggleUnlinked(item.id, (e.currentTarget as HTMLInputElement).checked) }),
    h('label', { for: `pick-${item.id}`, class: 'file-toggle' }, h(Icon, { kind: selected ? 'check' : 'document' }), h('span', { class: 'file-name' }, item.name)),
    h('button', { type: 'button', class: 'link', onClick: () => removeItems([item.id]), 'aria-label': t('file.removeNamed', { name: item.name }) }, t('file.remove')),
  );
}

/** The studies to link the selected files to; Escape or Cancel closes it. */
function StudyChoice({ evaluation, onChoose, onClose }: { evaluation: Evaluation; onChoose: (uid: string, index: number) => void; onClose: () => void }) {
  return h(
    'fieldset',
    {
      id: 'link-choice',
      class: 'link-choice',
      onKeyDown: (e: KeyboardEvent) => {
        if (e.key === 'Escape') onClose();
      },
    },
    h('legend', null, t('link.chooseTitle')),
    evaluation.studySummaries.map((study, index) =>
      h('button', { type: 'button', key: study.studyInstanceUid, class: 'study-choice', onClick: () => onChoose(study.studyInstanceUid, index) }, studyLabel(study)),
    ),
    h('button', { type: 'button', class: 'link', onClick: onClose }, t('link.cancel')),
  );
}
