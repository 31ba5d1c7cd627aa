/**
 * The actions that flip one field of `spec`: pause and resume a Deployment's rollouts
 * (`spec.paused`), suspend and resume a CronJob's schedule or a Job's pods (`spec.suspend`).
 * Each is offered only in the state it changes (see `index.ts`).
 */
import { useTranslation } from "react-i18next";
import type { ActionProps } from "@/lib/extensions/types";
import { ActionDialog } from "./ActionDialog";
import { setFlag, type SpecFlag } from "./patches";

interface FlagAction {
  flag: SpecFlag;
  value: boolean;
  /** The i18n key prefix: `<prefix>.title`, `.body`, `.confirm`, `.done`. */
  words: string;
}

function FlagDialog({ kind, object, cluster, onClose, flag, value, words }: ActionProps & FlagAction) {
  const { t } = useTranslation();
  const name = object.metadata.name;
  return (
    <ActionDialog
      kind={kind}
      cluster={cluster}
      title={t(`workload:${words}.title`, { kind: kind.kind, name })}
      confirm={t(`workload:${words}.confirm`)}
      onClose={onClose}
      run={async () => {
        await setFlag(kind, cluster, object, flag, value);
        return t(`workload:${words}.done`, { kind: kind.kind, name });
      }}
    >
      <p>{t(`workload:${words}.body`, { kind: kind.kind })}</p>
    </ActionDialog>
  );
}

export function PauseDialog(props: ActionProps) {
  return <FlagDialog {...props} flag="paused" value words="pause" />;
}

export function ResumeRolloutsDialog(props: ActionProps) {
  return <FlagDialog {...props} flag="paused" value={false} words="resumeRollouts" />;
}

export function SuspendDialog(props: ActionProps) {
  return <FlagDialog {...props} flag="suspend" value words={props.kind.kind === "Job" ? "suspendJob" : "suspend"} />;
}

export function UnsuspendDialog(props: ActionProps) {
  return <FlagDialog {...props} flag="suspend" value={false} words={props.kind.kind === "Job" ? "unsuspendJob" : "unsuspend"} />;
}
