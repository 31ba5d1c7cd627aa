/**
 * The built-in pages, registered as extensions exactly as a component's would be: each area
 * exports its list of extensions.
 */
import { register } from "@/lib/extensions/registry";
import { cluster } from "./cluster";
import { platform } from "./platform";
import { project } from "./project";
import { resources } from "./resources";
import { wizard } from "./wizard";
import { workload } from "./workload";
import { workspace } from "./workspace";

let done = false;

export function registerBuiltins(): void {
  if (done) return;
  done = true;
  register(...resources, ...platform, ...cluster, ...workspace, ...project, ...workload, ...wizard);
}
