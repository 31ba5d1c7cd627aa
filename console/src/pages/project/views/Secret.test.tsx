import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Secret } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { decodeBase64, decodedSize } from "../secrets";
import { json, refusal, renderInProject, reviewed, serve } from "@/test/harness";
import SecretOverview from "./Secret";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const FRESH = "/clusters/host/api/v1/namespaces/web/secrets/db";

// As the list cache holds it: the values are there, and must not be what is shown.
const cached: K8sObject = {
  apiVersion: "v1",
  kind: "Secret",
  type: "Opaque",
  metadata: { name: "db", namespace: "web", resourceVersion: "7", creationTimestamp: "2024-01-01T00:00:00Z" },
  data: { password: btoa("stale"), user: btoa("bob") },
};

const fresh = { ...cached, data: { password: btoa("s3cret!"), user: btoa("bob"), key: btoa(String.fromCharCode(0xff, 0xfe, 0x00)) } };

function show() {
  return renderInProject(<SecretOverview kind={Secret} object={cached} cluster="host" />);
}

afterEach(() => vi.unstubAllGlobals());

describe("Secret overview", () => {
  it("hides every value until one is revealed, then reads it afresh from the Kubernetes API", async () => {
    const calls = serve((call) => (call.url === FRESH ? json(fresh) : undefined));
    show();
    const button = await screen.findByTestId("secret-reveal-password");
    expect(screen.getByTestId("secret-value-password")).not.toHaveTextContent("stale");
    expect(screen.getByTestId("secret-value-password")).toHaveTextContent("••••");
    await userEvent.click(button);
    await waitFor(() => expect(screen.getByTestId("secret-value-password")).toHaveTextContent("s3cret!"));
    // Only the key asked for is shown.
    expect(screen.getByTestId("secret-value-user")).toHaveTextContent("••••");
    expect(calls.map((call) => call.url)).toEqual([FRESH]);
  });

  it("reveals all at once, and forgets the values when hidden", async () => {
    const calls = serve((call) => (call.url === FRESH ? json(fresh) : undefined));
    show();
    await userEvent.click(await screen.findByTestId("secret-reveal-all"));
    await waitFor(() => expect(screen.getByTestId("secret-value-user")).toHaveTextContent("bob"));
    expect(screen.getByTestId("secret-value-password")).toHaveTextContent("s3cret!");
    await userEvent.click(screen.getByTestId("secret-hide-all"));
    expect(screen.getByTestId("secret-value-password")).toHaveTextContent("••••");
    await userEvent.click(screen.getByTestId("secret-reveal-password"));
    await waitFor(() => expect(screen.getByTestId("secret-value-password")).toHaveTextContent("s3cret!"));
    expect(calls.filter((call) => call.url === FRESH)).toHaveLength(2);
  });

  it("says in words when the user may not read the values (403)", async () => {
    serve((call) =>
      call.url === FRESH
        ? refusal(403, 'secrets "db" is forbidden: User "eve" cannot get resource "secrets"', "Forbidden")
        : undefined,
    );
    show();
    await userEvent.click(await screen.findByTestId("secret-reveal-password"));
    const alert = await screen.findByTestId("secret-error");
    expect(within(alert).getByText("You may not read this Secret's values")).toBeInTheDocument();
    expect(alert).toHaveTextContent('User "eve" cannot get resource "secrets"');
    expect(screen.getByTestId("secret-value-password")).toHaveTextContent("••••");
  });

  it("offers no reveal to those who may not get the Secret", async () => {
    const calls = serve(undefined, false);
    show();
    expect(await screen.findByTestId("secret-value-password")).toHaveTextContent("••••");
    await reviewed();
    expect(screen.queryByTestId("secret-reveal-password")).toBeNull();
    expect(screen.queryByTestId("secret-reveal-all")).toBeNull();
    expect(calls).toEqual([]);
  });

  it("asks about getting this Secret by name", async () => {
    const reviews: Record<string, string>[] = [];
    serve(
      () => undefined,
      (review) => {
        reviews.push(review);
        return true;
      },
    );
    show();
    await screen.findByTestId("secret-reveal-password");
    expect(reviews).toContainEqual(expect.objectContaining({ verb: "get", resource: "secrets", namespace: "web", name: "db", group: "" }));
  });
});

describe("decoding", () => {
  it("decodes UTF-8 text and says when a value is binary", () => {
    expect(decodeBase64(btoa("héllo".replace(/./gu, (c) => String.fromCharCode(...new TextEncoder().encode(c)))))).toEqual({ text: "héllo", size: 6 });
    expect(decodeBase64(btoa(String.fromCharCode(0xff, 0xfe)))).toEqual({ text: null, size: 2 });
    expect(decodeBase64("not base64!")).toEqual({ text: null, size: 0 });
  });
  it("tells a value's size without decoding it", () => {
    expect(decodedSize(btoa("bob"))).toBe(3);
    expect(decodedSize(btoa("s3cret!"))).toBe(7);
    expect(decodedSize(btoa("ab"))).toBe(2);
  });
});
