// Components switched on and off: required ones cannot be, a switch PUTs {enabled} and the
// shared ["components"] query is read again.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { json, renderAt, serve } from "@/test/harness";
import ComponentsPage from "./ComponentsPage";

vi.setConfig({ testTimeout: 20_000 });

const listing = (auditing: boolean) => ({
  items: [
    { name: "auditing", description: "An audit trail", enabled: auditing, required: false, ready: auditing },
    { name: "iam", description: "Users", enabled: true, required: true, ready: true },
  ],
});

it("turns an optional component off and reads the list again", async () => {
  let auditing = true;
  const calls = serve((call) => {
    if (call.method === "PUT") {
      auditing = (call.body as { enabled: boolean }).enabled;
      return json({ name: "auditing", enabled: auditing });
    }
    if (call.url.endsWith("/components")) return json(listing(auditing));
    return undefined;
  });
  renderAt(<ComponentsPage />);
  const iam = await screen.findByTestId("component-iam");
  expect(iam).toBeDisabled();
  const switched = screen.getByTestId("component-auditing");
  await waitFor(() => expect(switched).toBeEnabled());
  await userEvent.click(switched);
  await waitFor(() => expect(screen.getByTestId("component-auditing")).not.toBeChecked());
  const put = calls.find((call) => call.method === "PUT");
  expect(put).toMatchObject({ url: "/kapis/config.atoll.io/v1alpha1/components/auditing", body: { enabled: false } });
  expect(calls.filter((call) => call.url.endsWith("/components")).length).toBeGreaterThan(1);
});
