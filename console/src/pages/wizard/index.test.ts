// The wizard's extensions: its page in the project area, and a palette command that opens it.
import type { CommandExtension } from "@/lib/extensions/types";
import { wizard } from "./index";

it("registers the page and a command that opens it in the current project", () => {
  expect(wizard.find((extension) => extension.id === "wizard.new")).toMatchObject({ type: "page", area: "project", path: "workloads/new" });
  const command = wizard.find((extension): extension is CommandExtension => extension.type === "command")!;
  const navigate = vi.fn();
  command.run({ navigate, cluster: "host", namespace: "my app" });
  expect(navigate).toHaveBeenCalledWith("/clusters/host/projects/my%20app/workloads/new");
  command.run({ navigate: vi.fn() });
  expect(navigate).toHaveBeenCalledTimes(1);
});
