import { forwardRef, type HTMLAttributes, type ReactNode } from 'react';

type Props = Omit<HTMLAttributes<HTMLDivElement>, 'role' | 'onClick'> & {
  /** The id of the heading that names the dialog. */
  titleId: string;
  /** A click on the backdrop, outside the sheet. */
  onClose: () => void;
  children: ReactNode;
};

/**
 * A modal dialog over the view (the shortcut sheet, the guidelines, the flag dialog): a click
 * outside it closes it, a click inside stays inside.
 */
export const ModalSheet = forwardRef<HTMLDivElement, Props>(function ModalSheet(
  { titleId, onClose, className, children, ...rest },
  ref,
) {
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div
        ref={ref}
        {...rest}
        className={className === undefined ? 'sheet' : `sheet ${className}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onClick={(e) => e.stopPropagation()}
      >
        {children}
      </div>
    </div>
  );
});
