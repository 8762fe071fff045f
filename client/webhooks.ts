/**
 * Verifying the service's webhooks on an app server: `verifyWebhook(request, secret)` checks
 * the Standard Webhooks signature with the `standardwebhooks` package (not a hand-written
 * HMAC) and returns the payload. Exported from `partykit-presence/server`.
 */
import { Webhook } from "standardwebhooks";
import { check } from "../party/wire/check.ts";
import type { WebhookPayload } from "../party/protocol/index.ts";
import { WebhookPayloadDefs, WebhookPayloadSchema } from "../party/wire/schemas.generated.ts";

/**
 * Verifies a webhook request with the PRESENCE_WEBHOOK_SECRET (`whsec_…`): its signature, and
 * a timestamp within 5 minutes. Returns the payload; throws when it does not verify. Use the
 * `webhook-id` header to drop a batch delivered twice.
 */
export async function verifyWebhook(request: Request, secret: string): Promise<WebhookPayload> {
  const body = await request.text();
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) headers[name] = request.headers.get(name) ?? "";
  const payload = new Webhook(secret).verify(body, headers);
  const problem = check(WebhookPayloadSchema, payload, WebhookPayloadDefs);
  if (problem) throw new Error(`the webhook verified but its payload is not one of this service's: ${problem}`);
  return payload as WebhookPayload;
}
