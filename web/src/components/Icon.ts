import { h } from 'preact';

const ICON_PATHS = {
  // A sheet of paper with a folded corner.
  document: 'M6 2h8l5 5v15H6z M14 2v5h5',
  // A checkmark.
  check: 'M4 12.5l5 5L20 6.5',
} as const;

/** A small inline SVG icon (no icon font needed); decorative, hidden from screen readers. */
export function Icon({ kind }: { kind: keyof typeof ICON_PATHS }) {
  return h(
    'svg',
    { class: `icon icon-${kind}`, 'data-icon': kind, viewBox: '0 0 24 24', width: 18, height: 18, 'aria-hidden': 'true', focusable: 'false' },
    h('path', { d: ICON_PATHS[kind], fill: 'none', stroke: 'currentColor', 'stroke-width': kind === 'check' ? 3 : 1.8, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }),
  );
}
