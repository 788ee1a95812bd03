// A modal dialog on the native <dialog>: the browser keeps focus inside (the page behind is
// inert), Escape closes it, and focus returns to where it was.
import { useEffect, useId, useRef, type ReactNode } from "react";

export function Dialog({ open, title, onClose, children, actions }: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  actions?: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  useEffect(() => {
    if (open) return;
    const back = opener.current;
    opener.current = null;
    if (back instanceof HTMLElement && back.isConnected) back.focus();
  }, [open]);

  return (
    <dialog
      ref={ref}
      className="inbox-dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClose={() => open && onClose()}
    >
      <div className="inbox-dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="link" onClick={onClose} aria-label={`Close: ${title}`}>
          Close
        </button>
      </div>
      <div className="inbox-dialog-body">{children}</div>
      {actions && <div className="inbox-dialog-actions row">{actions}</div>}
    </dialog>
  );
}
