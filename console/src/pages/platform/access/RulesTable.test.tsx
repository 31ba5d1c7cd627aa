// A role's rules read as a table: a row per resource, a mark per allowed verb.
import { render, screen, within } from "@testing-library/react";
import { RulesTable } from "./RulesTable";

it("marks the verbs allowed on each resource and lists the others", () => {
  render(<RulesTable rules={[{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "escalate"] }, { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]} />);
  const rows = within(screen.getByTestId("rules-table")).getAllByRole("row").slice(1);
  expect(rows[0]).toHaveTextContent("All resources");
  expect(rows[0]).toHaveTextContent("All verbs");
  expect(within(rows[1]).getAllByTitle("Allowed")).toHaveLength(2);
  expect(rows[1]).toHaveTextContent("deployments");
  expect(rows[1]).toHaveTextContent("escalate");
});

it("says when a role allows nothing", () => {
  render(<RulesTable rules={[]} />);
  expect(screen.getByText("This role allows nothing.")).toBeInTheDocument();
});
