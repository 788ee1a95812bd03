// Keyboard triage: which key does what, and when a key is typing rather than a shortcut.

export type ShortcutAction = "next" | "prev" | "open" | "reply" | "claim" | "resolve" | "toggle" | "search" | "help";

export interface Shortcut {
  keys: string[];
  action: ShortcutAction;
  description: string;
}

/** Every shortcut, in the order the help dialog lists them. */
export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ["j"], action: "next", description: "Move to the next case" },
  { keys: ["k"], action: "prev", description: "Move to the previous case" },
  { keys: ["Enter", "o"], action: "open", description: "Open the case" },
  { keys: ["r"], action: "reply", description: "Open the case with the reply box" },
  { keys: ["a"], action: "claim", description: "Assign the case to me" },
  { keys: ["e"], action: "resolve", description: "Resolve the case (with undo)" },
  { keys: ["x"], action: "toggle", description: "Select or unselect the case" },
  { keys: ["/"], action: "search", description: "Search cases" },
  { keys: ["?"], action: "help", description: "Show these shortcuts" },
];

const BY_KEY = new Map<string, ShortcutAction>(SHORTCUTS.flatMap((s) => s.keys.map((k) => [k, s.action] as const)));

/** The bits of a DOM element the decision needs (a plain object in tests). */
export interface TargetLike {
  tagName?: string;
  type?: string;
  isContentEditable?: boolean;
  getAttribute?(name: string): string | null;
}

export interface KeyLike {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  isComposing?: boolean;
  target: TargetLike | null;
}

const NOT_TYPING_INPUTS = new Set(["checkbox", "radio", "button", "submit", "reset", "image", "range", "color"]);

/** Whether keys pressed at `target` type text or pick an option (then no shortcut fires). */
export function isTypingTarget(target: TargetLike | null): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = (target.tagName ?? "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !NOT_TYPING_INPUTS.has((target.type ?? "text").toLowerCase());
  const role = target.getAttribute?.("role");
  return role === "textbox" || role === "combobox" || role === "searchbox";
}

/** Whether Enter at `target` already means something (press a button, follow a link). */
function enterIsTaken(target: TargetLike | null): boolean {
  const tag = (target?.tagName ?? "").toUpperCase();
  return tag === "BUTTON" || tag === "A" || tag === "INPUT" || tag === "SUMMARY" || target?.getAttribute?.("role") === "button";
}

/** The shortcut a key press means, or null (typing, modifier held, or not a shortcut key). */
export function shortcutFor(e: KeyLike): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return null;
  if (isTypingTarget(e.target)) return null;
  if (e.key === "Enter" && enterIsTaken(e.target)) return null;
  return BY_KEY.get(e.key) ?? null;
}

/** The id `delta` rows away from `current` (the first row when none is current), clamped. */
export function moveFocus(ids: readonly string[], current: string | null, delta: number): string | null {
  if (!ids.length) return null;
  const index = current === null ? -1 : ids.indexOf(current);
  if (index < 0) return ids[delta < 0 ? ids.length - 1 : 0] ?? null;
  return ids[Math.min(ids.length - 1, Math.max(0, index + delta))] ?? null;
}

/**
 * The row to focus after the list changed: the same case if still there, else the one now at
 * its old place (the case after a resolved one), else none.
 */
export function keepFocus(before: readonly string[], after: readonly string[], current: string | null): string | null {
  if (current === null || after.includes(current)) return current;
  if (!after.length) return null;
  const index = before.indexOf(current);
  if (index < 0) return null;
  // The next case that is still listed, else the previous one.
  for (let i = index + 1; i < before.length; i++) if (after.includes(before[i]!)) return before[i]!;
  for (let i = index - 1; i >= 0; i--) if (after.includes(before[i]!)) return before[i]!;
  return after[Math.min(index, after.length - 1)] ?? null;
}
