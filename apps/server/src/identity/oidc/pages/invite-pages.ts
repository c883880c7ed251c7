import { MIN_PASSWORD_LENGTH } from "../local-accounts.js";
import { html, page } from "./layout.js";

/** The set-password form behind an invitation link. */
export function invitePage(input: {
  action: string;
  csrf: string;
  email: string | null;
  error?: string | undefined;
}): string {
  return page(
    "Set your password",
    html`<h1>Welcome to Ignis</h1>
<p>Choose a password${input.email ? html` for <strong>${input.email}</strong>` : ""}. It needs at least ${MIN_PASSWORD_LENGTH} characters.</p>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ""}
<form method="post" action="${input.action}">
<input type="hidden" name="csrf" value="${input.csrf}">
${input.email ? html`<input type="hidden" name="username" value="${input.email}" autocomplete="username">` : ""}
<label for="password">New password</label>
<input id="password" type="password" name="password" minlength="${MIN_PASSWORD_LENGTH}" required autofocus autocomplete="new-password">
<label for="confirmation">Repeat it</label>
<input id="confirmation" type="password" name="confirmation" minlength="${MIN_PASSWORD_LENGTH}" required autocomplete="new-password">
<button type="submit">Set password</button>
</form>`,
  );
}

/** Shown for an unknown, used or expired invitation. */
export function inviteInvalidPage(): string {
  return page(
    "Invitation not valid",
    html`<h1>This invitation is not valid</h1>
<p>The link is unknown, was already used, or has expired. Ask an administrator for a new one.</p>`,
  );
}

/** Shown once the password is set. */
export function inviteDonePage(): string {
  return page(
    "Password set",
    html`<h1>Your password is set</h1>
<p>Sign in with your e-mail and this password: in the web app, or with <code>ignis login</code> in a terminal.</p>
<p><a href="/">Go to Ignis</a></p>`,
  );
}
