import { isIgnisError } from "@ignis/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { errors, type Interaction } from "oidc-provider";
import { z } from "zod";
import type { EmbeddedOidc } from "../../identity/embedded-oidc.js";
import { sameOriginPost } from "../../identity/oidc/form-csrf.js";
import { verifyLocalLogin } from "../../identity/oidc/local-accounts.js";
import { STYLESHEET, STYLESHEET_PATH } from "../../identity/oidc/pages/layout.js";
import { errorPage, loginPage } from "../../identity/oidc/pages/sign-in-pages.js";
import { createSignInThrottle } from "../../security/sign-in-throttle.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";
import { acceptHtmlForms, FormField, sendPage } from "./html-forms.js";
import { inviteRoutes } from "./invite.js";
import { mountOidcProvider } from "./oidc-mount.js";

const Uid = z.object({ uid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });
const LoginForm = z.object({ csrf: FormField, email: FormField, password: FormField });
const STALE = "This sign-in request has expired or was opened in another browser. Start again from the app.";

/**
 * The embedded provider and its pages: /oidc itself, the login and consent interactions, invitations and the
 * shared stylesheet. Does nothing with an external issuer.
 */
export async function signInRoutes(app: App, ctx: AppContext): Promise<void> {
  const oidc = ctx.oidc;
  if (!oidc) return;
  mountOidcProvider(app, ctx, oidc);
  app.get(
    STYLESHEET_PATH,
    { config: { meta: { access: "public" } }, schema: { hide: true } },
    async (_request, reply) =>
      reply.header("cache-control", "public, max-age=3600").type("text/css; charset=utf-8").send(STYLESHEET),
  );
  await app.register(async (scope) => {
    acceptHtmlForms(scope);
    interactionRoutes(scope, ctx, oidc);
    inviteRoutes(scope, ctx, oidc);
  });
}

function interactionRoutes(app: App, ctx: AppContext, oidc: EmbeddedOidc): void {
  const { provider } = oidc;
  const throttle = createSignInThrottle(ctx.rateLimits);
  /** The interaction named by the URL, provided the browser holds its signed cookie; undefined when stale. */
  const loadInteraction = async (request: FastifyRequest, reply: FastifyReply, uid: string) => {
    try {
      const interaction = await provider.interactionDetails(request.raw, reply.raw);
      return interaction.uid === uid ? interaction : undefined;
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return undefined;
      throw error;
    }
  };
  const clientName = (interaction: Interaction) =>
    oidc.firstPartyClients.get(interaction.params.client_id) ?? interaction.params.client_id;
  const renderLogin = (reply: FastifyReply, status: number, interaction: Interaction, extra = {}) =>
    sendPage(
      reply,
      status,
      loginPage({
        action: `/interaction/${interaction.uid}/login`,
        csrf: oidc.csrf.token("interaction", interaction.uid),
        clientName: clientName(interaction),
        email: interaction.params.login_hint,
        ...extra,
      }),
    );

  app.get(
    "/interaction/:uid",
    { config: { meta: { access: "public" } }, schema: { hide: true, params: Uid } },
    async (request, reply) => {
      const interaction = await loadInteraction(request, reply, request.params.uid);
      if (!interaction) return sendPage(reply, 400, errorPage("Sign-in expired", STALE));
      if (interaction.prompt.name === "login") return renderLogin(reply, 200, interaction);
      if (interaction.prompt.name === "consent") {
        // Our own apps need no consent screen; any other client is refused outright.
        const result = oidc.firstPartyClients.has(interaction.params.client_id)
          ? { consent: { grantId: await grantRequested(oidc, interaction) } }
          : { error: "access_denied", error_description: "only Ignis's own applications may sign in here" };
        const returnTo = await provider.interactionResult(request.raw, reply.raw, result);
        return reply.redirect(returnTo, 303);
      }
      return sendPage(reply, 400, errorPage("Sign-in failed", STALE));
    },
  );

  app.post(
    "/interaction/:uid/login",
    {
      config: { meta: { access: "public", action: "user.sign-in", objectType: "user" } },
      schema: { hide: true, params: Uid, body: LoginForm },
    },
    async (request, reply) => {
      const interaction = await loadInteraction(request, reply, request.params.uid);
      if (interaction?.prompt.name !== "login")
        return sendPage(reply, 400, errorPage("Sign-in expired", STALE));
      const { csrf, email = "", password = "" } = request.body;
      if (
        !sameOriginPost(request.headers.origin, ctx.publicUrl) ||
        !oidc.csrf.check("interaction", interaction.uid, csrf)
      ) {
        request.auditDetails = { reason: "csrf" };
        return sendPage(
          reply,
          403,
          errorPage("Sign-in refused", "The form could not be verified. Start again."),
        );
      }
      try {
        await throttle.before(email, request.ip);
      } catch (error) {
        if (!isIgnisError(error) || error.code !== "rate_limited") throw error;
        const wait = error.details?.retryAfterSeconds;
        if (typeof wait === "number") reply.header("retry-after", String(wait));
        request.auditDetails = { reason: "rate_limited" };
        return renderLogin(reply, 429, interaction, {
          email,
          error: "Too many attempts. Wait a little and try again.",
        });
      }
      const user = await verifyLocalLogin(ctx.db, email, password);
      if (!user) {
        await throttle.failed(email, request.ip);
        request.auditDetails = { reason: "bad_credentials" };
        return renderLogin(reply, 401, interaction, { email, error: "The e-mail or password is not right." });
      }
      await throttle.succeeded(email, request.ip);
      request.auditObjectId = user.id;
      request.auditDetails = { client: interaction.params.client_id };
      // On the record before the provider finishes the sign-in (its own storage, outside our transactions).
      reply.code(303);
      await auditedWrite(ctx, request, reply, async () => {});
      const returnTo = await provider.interactionResult(
        request.raw,
        reply.raw,
        { login: { accountId: user.id } },
        { mergeWithLastSubmission: false },
      );
      return reply.redirect(returnTo, 303);
    },
  );
}

/** Grants exactly what the interaction asks for and is missing (scopes, claims, API scopes); returns its id. */
async function grantRequested(oidc: EmbeddedOidc, interaction: Interaction): Promise<string> {
  const { provider } = oidc;
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const grant =
    (interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined) ??
    new provider.Grant({
      accountId: interaction.session?.accountId ?? "",
      clientId: interaction.params.client_id,
    });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(" "));
  return grant.save();
}
