// The case page's keyboard shortcuts: Escape or "u" back to the inbox, "r" to the reply box,
// "e" to resolve. None of them acts while the user types in a field.

export type Shortcut = "inbox" | "reply" | "resolve";

interface TargetLike {
  tagName?: string;
  isContentEditable?: boolean;
}

interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  defaultPrevented?: boolean;
  target: unknown;
}

const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);

/** Whether a key press goes into a field (then it is text, not a shortcut). */
export function isTyping(target: unknown): boolean {
  if (!target || typeof target !== "object") return false;
  const t = target as TargetLike;
  return Boolean(t.isContentEditable) || FIELDS.has(String(t.tagName ?? "").toUpperCase());
}

/** The shortcut a key press means, or null. */
export function shortcutOf(event: KeyLike): Shortcut | null {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return null;
  if (isTyping(event.target)) return null;
  switch (event.key) {
    case "Escape":
    case "u":
      return "inbox";
    case "r":
      return "reply";
    case "e":
      return "resolve";
    default:
      return null;
  }
}
