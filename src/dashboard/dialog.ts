/**
 * Confirmation dialogs: a native modal `<dialog>` (focus moves into it and stays there,
 * Escape cancels, focus returns to the opener on close). Resolves true only when the
 * confirming button was pressed.
 */
import type { Child } from './dom.ts';
import { h } from './dom.ts';

export interface ConfirmOptions {
  title: string;
  body: Child;
  confirmLabel: string;
  /** Red confirm button for actions that cut devices off. */
  danger?: boolean;
  cancelLabel?: string;
}

export function confirmDialog(options: ConfirmOptions): Promise<boolean> {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, options.cancelLabel ?? 'Cancel');
    const confirm = h('button', { type: 'button', class: `button ${options.danger ? 'danger' : 'primary'}`, value: 'confirm', 'data-confirm': true }, options.confirmLabel);
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, options.title),
      h('div', { class: 'dialog-body' }, options.body),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    let confirmed = false;
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => {
      confirmed = true;
      dialog.close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
