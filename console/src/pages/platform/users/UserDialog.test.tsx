// Creating a user: the body carries the platform role label; the server's password policy
// refusal is shown as it words it.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, refusal, renderAt, serve } from "@/test/harness";
import { CreateUserDialog } from "./UserDialog";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));
vi.setConfig({ testTimeout: 20_000 });

const POLICY = "User 'jane' is invalid: spec.password: the password must have at least 8 characters";
const roles = { items: [{ metadata: { name: "platform-admin" } }, { metadata: { name: "platform-regular" } }], totalItems: 2 };

function serveUsers(post: () => Response) {
  return serve((call) => {
    if (call.method === "POST") return post();
    if (call.url.includes("/globalroles.iam.atoll.io")) return json(roles);
    return undefined;
  });
}

async function fill(password: string) {
  await userEvent.type(screen.getByTestId("user-name"), "jane");
  await userEvent.type(screen.getByTestId("user-email"), "jane@example.com");
  await userEvent.type(screen.getByTestId("user-password"), password);
  await screen.findByRole("option", { name: "platform-admin" });
  await userEvent.selectOptions(screen.getByTestId("user-role"), "platform-admin");
  await userEvent.click(screen.getByTestId("user-submit"));
}

it("shows the server's password policy in its words", async () => {
  serveUsers(() => refusal(422, POLICY, "Invalid"));
  renderAt(<CreateUserDialog onClose={() => undefined} />);
  await fill("short");
  expect(await screen.findByTestId("user-error")).toHaveTextContent(POLICY);
});

it("creates the User with its platform role", async () => {
  const calls = serveUsers(() => json({ metadata: { name: "jane" } }, 201));
  const onClose = vi.fn();
  renderAt(<CreateUserDialog onClose={onClose} />);
  await fill("Longer-pass-1");
  await waitFor(() => expect(onClose).toHaveBeenCalledWith(true));
  expect(calls.find((call) => call.method === "POST")).toMatchObject({
    url: "/clusters/host/apis/iam.atoll.io/v1alpha1/users",
    body: { metadata: { name: "jane", labels: { "iam.atoll.io/globalrole": "platform-admin" } }, spec: { email: "jane@example.com", password: "Longer-pass-1" } },
  });
});
