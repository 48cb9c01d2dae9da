import { type ReactNode, useEffect, useId, useRef } from "react";

/**
 * A modal dialog on the native <dialog>: showModal() gives the dialog role, aria-modal, a focus
 * trap, an inert background and Escape to close. Mount it to open it; it calls onClose when the
 * user dismisses it (Escape or a close button), and the parent unmounts it.
 */
export function Dialog({
  title,
  onClose,
  children,
  className,
  alert = false,
}: {
  title: string;
  onClose(): void;
  children: ReactNode;
  className?: string;
  /** An alertdialog: it needs the user's attention (a changed host key). */
  alert?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog${className ? ` ${className}` : ""}`}
      aria-labelledby={titleId}
      role={alert ? "alertdialog" : undefined}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="dialog-header">
        <h3 id={titleId}>{title}</h3>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="dialog-body">{children}</div>
    </dialog>
  );
}
