/** The Logs tab of a pod. */
import type { DetailTabProps } from "@/lib/extensions/types";
import { PodLogs } from "./PodLogs";

export default function LogsTab({ object, cluster }: DetailTabProps) {
  return <PodLogs cluster={cluster} pod={object} />;
}
