// Modal dialogs on the native <dialog> shown with showModal(): the page behind is inert, Tab
// and Shift+Tab cycle inside, Escape closes, and focus goes back to what opened it. The
// control marked `data-autofocus` gets the focus on opening (else the first one does).
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from "react";
import { focusables, trapTarget } from "./focusTrap";
import "./dialog.css";

export interface DialogProps {
  /** Shown while true. A dialog rendered only while it is needed leaves it out: open on mount. */
  open?: boolean;
  /** The heading; it names the dialog. */
  title: string;
  /** Escape and the Close button ask for this; the owner then stops rendering it or sets `open` false. */
  onClose(): void;
  children?: ReactNode;
  /** Buttons under the body. */
  actions?: ReactNode;
  /** A "Close" button beside the heading, named "Close: <title>". */
  closeButton?: boolean;
  /** "alertdialog" for a question that interrupts (a confirmation). */
  role?: "dialog" | "alertdialog";
  /** The body describes the dialog (aria-describedby): for short questions, not long content. */
  describedByBody?: boolean;
  /** While an action runs, Escape and the Close button do nothing. */
  busy?: boolean;
  className?: string;
}

export function Dialog({
  open = true,
  title,
  onClose,
  children,
  actions,
  closeButton = false,
  role = "dialog",
  describedByBody = false,
  busy = false,
  className,
}: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const native = useRef(true);
  const id = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || !open) return;
    const opener = document.activeElement;
    if (!dialog.open) {
      native.current = typeof dialog.showModal === "function";
      if (native.current) dialog.showModal();
      else dialog.setAttribute("open", "");
    }
    (dialog.querySelector<HTMLElement>("[data-autofocus]") ?? focusables(dialog)[0])?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    };
  }, [open]);

  const requestClose = () => {
    if (!busy) onClose();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key === "Escape" && !native.current) {
      // Without showModal() the browser does not turn Escape into a cancel event.
      e.preventDefault();
      requestClose();
      return;
    }
    if (e.key !== "Tab" || e.altKey || e.ctrlKey || e.metaKey) return;
    const controls = focusables(e.currentTarget);
    const index = controls.indexOf(document.activeElement as HTMLElement);
    const target = trapTarget(controls.length, index, e.shiftKey);
    if (target !== null) {
      e.preventDefault();
      controls[target]!.focus();
    } else if (controls.length === 0) {
      e.preventDefault();
    }
  };

  return (
    <dialog
      ref={ref}
      className={className ? `dialog ${className}` : "dialog"}
      role={role === "alertdialog" ? "alertdialog" : undefined}
      aria-modal="true"
      aria-labelledby={`${id}-title`}
      aria-describedby={describedByBody ? `${id}-body` : undefined}
      onCancel={(e) => {
        // Escape: the owner decides (it may be busy); the dialog does not close by itself.
        e.preventDefault();
        requestClose();
      }}
      onClose={(e) => {
        // Closed by the browser while the owner still shows it: a second Escape without a click
        // in between closes a modal dialog without asking (Chrome), or a form with method="dialog".
        if (open && !e.currentTarget.open) onClose();
      }}
      onKeyDown={onKeyDown}
    >
      <div className="dialog-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {closeButton && (
          <button type="button" className="link" onClick={requestClose} disabled={busy} aria-label={`Close: ${title}`}>
            Close
          </button>
        )}
      </div>
      <div className="dialog-body" id={`${id}-body`}>
        {children}
      </div>
      {actions && <div className="dialog-actions row">{actions}</div>}
    </dialog>
  );
}

export interface ConfirmDialogProps {
  open?: boolean;
  /** The question: "Delete the rule “Refunds”?". */
  title: string;
  /** What happens, in words. */
  children?: ReactNode;
  confirmLabel?: string;
  cancelLabel?: string;
  /** "danger" for what cannot be undone or destroys something; "primary" for a step forward. */
  tone?: "danger" | "primary";
  /** While the action runs: both buttons are disabled and the confirm button says "Working…". */
  busy?: boolean;
  closeButton?: boolean;
  onConfirm(): void;
  onCancel(): void;
}

/**
 * A question before an action: the confirm button, then the cancel button, which has the
 * focus, so Enter does not carry out an action that cannot be undone.
 */
export function ConfirmDialog({
  open = true,
  title,
  children,
  confirmLabel = "Confirm",
  cancelLabel = "Cancel",
  tone = "danger",
  busy = false,
  closeButton = false,
  onConfirm,
  onCancel,
}: ConfirmDialogProps) {
  return (
    <Dialog
      open={open}
      title={title}
      onClose={onCancel}
      role="alertdialog"
      describedByBody={children != null}
      busy={busy}
      closeButton={closeButton}
      actions={
        <>
          <button type="button" className={tone} onClick={onConfirm} disabled={busy} aria-busy={busy || undefined}>
            {busy ? "Working…" : confirmLabel}
          </button>
          <button type="button" data-autofocus onClick={onCancel} disabled={busy}>
            {cancelLabel}
          </button>
        </>
      }
    >
      {children}
    </Dialog>
  );
}
