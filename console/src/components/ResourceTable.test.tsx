// The list's rows: what each shows, selection for bulk delete (offered only to those allowed
// to delete), and the name linked to its page.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Pod } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { list, renderInProject, reviewed, serve } from "@/test/harness";
import { ResourceTable, nameColumn, type Column } from "./ResourceTable";

vi.mock("@/lib/api/watch", () => ({ watches: { subscribe: () => () => undefined } }));

const pod = (name: string, node: string): K8sObject => ({ kind: "Pod", metadata: { name, namespace: "web" }, spec: { nodeName: node } });
const columns: Column[] = [nameColumn("Name"), { id: "node", title: "Node", render: (object) => String(object.spec?.nodeName) }];

afterEach(() => vi.unstubAllGlobals());

// jsdom lays nothing out: give the scroller a height, so the virtualizer shows rows.
const height = Object.getOwnPropertyDescriptor(Element.prototype, "clientHeight")!;
beforeAll(() => Object.defineProperty(Element.prototype, "clientHeight", { configurable: true, get: () => 600 }));
afterAll(() => Object.defineProperty(Element.prototype, "clientHeight", height));

function table(allowed: boolean) {
  serve((call) => (call.url.includes("/pods?") ? list([pod("web-1", "node-a"), pod("web-2", "node-b")]) : undefined), allowed);
  renderInProject(
    <ResourceTable kind={Pod} scope={{ cluster: "host", namespace: "web" }} columns={columns} link={(object) => `/pods/${object.metadata.name}`} bulkDelete />,
    "pods",
  );
}

it("shows a row per object, its cells labelled by their column, the name linked", async () => {
  table(true);
  const row = (await screen.findByTestId("link-web-2")).closest("tr")!;
  expect(row).toHaveAttribute("data-row", "web-2");
  expect(within(row).getByText("node-b").closest("td")).toHaveAttribute("data-label", "Node");
  expect(screen.getByTestId("link-web-1")).toHaveAttribute("href", "/pods/web-1");
});

it("selects rows for deleting them together, when allowed to delete", async () => {
  table(true);
  const box = (await screen.findAllByRole("checkbox", { name: "Select row 1" }))[0];
  expect(screen.queryByTestId("bulk-delete")).toBeNull();
  await userEvent.click(box);
  expect(box).toBeChecked();
  expect(box.closest("tr")).toHaveClass("pf-m-selected");
  expect(screen.getByTestId("bulk-delete")).toHaveTextContent("(1)");
  await userEvent.click(screen.getByRole("checkbox", { name: "Select row 0" }));
  expect(screen.getByTestId("bulk-delete")).toHaveTextContent("(2)");
  await userEvent.click(box);
  await waitFor(() => expect(screen.getByTestId("bulk-delete")).toHaveTextContent("(1)"));
});

it("offers no selection to those who may not delete", async () => {
  table(false);
  await screen.findByTestId("link-web-1");
  await reviewed();
  expect(screen.queryAllByRole("checkbox")).toHaveLength(0);
});
