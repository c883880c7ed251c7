import { type Html, html, page, trusted } from "./layout.js";

/** The e-mail and password form of an interaction. */
export function loginPage(input: {
  action: string;
  csrf: string;
  clientName: string;
  email?: string | undefined;
  error?: string | undefined;
}): string {
  return page(
    "Sign in",
    html`<h1>Sign in</h1>
<p class="muted">to continue to ${input.clientName}</p>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ""}
<form method="post" action="${input.action}" autocomplete="on">
<input type="hidden" name="csrf" value="${input.csrf}">
<label for="email">E-mail</label>
<input id="email" type="email" name="email" value="${input.email ?? ""}" required autofocus autocomplete="username">
<label for="password">Password</label>
<input id="password" type="password" name="password" required autocomplete="current-password">
<button type="submit">Sign in</button>
</form>`,
  );
}

/** Where the user types the code their CLI shows; `form` is oidc-provider's form (with its xsrf field). */
export function deviceCodeInputPage(form: string, error: string | undefined): string {
  return page(
    "Connect a device",
    html`<h1>Connect the Ignis CLI</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : html`<p>Enter the code shown in your terminal.</p>`}
${trusted(form)}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

/** Asks the user to confirm that the code matches the one in their terminal before signing in. */
export function deviceCodeConfirmPage(form: string, clientName: string, userCode: string): string {
  return page(
    "Confirm the code",
    html`<h1>Is this your code?</h1>
<p><strong>${clientName}</strong> asks to act on your behalf. Continue only if your terminal shows:</p>
<code class="user-code">${userCode}</code>
${trusted(form)}
<button type="submit" form="op.deviceConfirmForm">Yes, continue</button>
<button type="submit" class="secondary" form="op.deviceConfirmForm" name="abort" value="yes">No, cancel</button>`,
  );
}

/** Shown once the device is connected. */
export function deviceSuccessPage(clientName: string): string {
  return page(
    "Signed in",
    html`<h1>You are signed in</h1>
<p>${clientName} is now connected to your account. You can close this page and return to your terminal.</p>`,
  );
}

/** Asks before ending the session (RP-initiated logout). */
export function logoutPage(form: string): string {
  return page(
    "Sign out",
    html`<h1>Sign out of Ignis?</h1>
${trusted(form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" class="secondary" form="op.logoutForm">No, stay signed in</button>`,
  );
}

/** Shown after signing out when the client named no place to return to. */
export function loggedOutPage(): string {
  return page("Signed out", html`<h1>You are signed out</h1><p>You can close this page.</p>`);
}

/** A generic error page; only safe, user-facing text goes in. */
export function errorPage(title: string, message: string, extra?: Html): string {
  return page(title, html`<h1>${title}</h1><p>${message}</p>${extra ?? ""}`);
}
