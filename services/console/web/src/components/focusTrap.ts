// Keeping keyboard focus inside a modal dialog: Tab past the last control goes to the first,
// Shift+Tab before the first goes to the last. The native modal <dialog> makes the page behind
// inert; this closes the way out to the browser's own controls as well.

/** What can take focus by Tab inside a dialog. */
export const FOCUSABLE = [
  "a[href]",
  "area[href]",
  "button:not([disabled])",
  'input:not([disabled]):not([type="hidden"])',
  "select:not([disabled])",
  "textarea:not([disabled])",
  "summary",
  "iframe",
  "audio[controls]",
  "video[controls]",
  '[contenteditable="true"]',
  "[tabindex]",
]
  .map((s) => `${s}:not([tabindex^="-"])`)
  .join(", ");

/**
 * Where Tab (or Shift+Tab) moves focus among `count` focusable controls when the control at
 * `index` has it (-1: none of them, e.g. the dialog itself): the index to focus instead, or
 * null to let the browser move it as usual.
 */
export function trapTarget(count: number, index: number, shift: boolean): number | null {
  if (count === 0) return null;
  if (index < 0) return shift ? count - 1 : 0;
  if (shift && index === 0) return count - 1;
  if (!shift && index === count - 1) return 0;
  return null;
}

/** The controls of `root` that Tab reaches, in document order (hidden ones left out). */
export function focusables(root: ParentNode): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.getClientRects().length > 0);
}
