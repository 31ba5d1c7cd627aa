/**
 * A Job's overview: its status, completions, parallelism and timing, and its pods, live (by
 * the Job's selector); a CronJob's: its schedule, and its Jobs (those it owns), newest first.
 */
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import { useAll } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Job, Pod } from "@/lib/k8s/kinds";
import { workloadStatus } from "@/lib/k8s/status";
import type { K8sObject } from "@/lib/k8s/types";
import { Conditions, Metadata } from "@/pages/resources/Overview";
import { age } from "@/lib/format";
import { jobColumns, podColumns } from "../columns";
import { completions, jobDuration } from "../jobs";
import { Containers } from "../parts/Containers";
import { Facts, Section } from "../parts/Details";
import { Fetched, Truncated } from "../parts/Fetched";
import { ObjectTable } from "../parts/ObjectTable";
import { Pods } from "../parts/Pods";
import { ownedBy, selectorText } from "../related";

function newestFirst(objects: K8sObject[]): K8sObject[] {
  return [...objects].sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
}

function JobPods({ job, cluster }: { job: K8sObject; cluster: string }) {
  const { t } = useTranslation();
  const selector = selectorText(job.spec?.selector) ?? `job-name=${job.metadata.name}`;
  const pods = useAll(Pod, { cluster, namespace: job.metadata.namespace ?? "", labelSelector: selector });
  return (
    <Fetched result={pods}>
      {(page) => <Pods pods={newestFirst(page.items)} total={page.totalItems} cluster={cluster} columns={podColumns(t)} />}
    </Fetched>
  );
}

export function JobOverview({ object: job, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const status = job.status ?? {};
  const template = job.spec?.template?.spec ?? {};
  return (
    <>
      <Metadata object={job} cluster={cluster} />
      <Section title={t("project:job.details")}>
        <Facts
          items={[
            [t("project:col.status"), <StatusLabel key="status" status={workloadStatus(job)} />],
            [t("project:col.completions"), completions(job)],
            [t("project:job.parallelism"), job.spec?.parallelism ?? 1],
            [t("project:job.backoffLimit"), job.spec?.backoffLimit ?? 6],
            [t("project:col.active"), status.active ?? 0],
            [t("project:job.succeeded"), status.succeeded ?? 0],
            [t("project:job.failed"), status.failed ?? 0],
            [t("project:job.started"), status.startTime],
            [t("project:job.completed"), status.completionTime],
            [t("project:col.duration"), jobDuration(job)],
          ]}
        />
      </Section>
      <Section title={t("project:col.pods")} testId="related-pods">
        <JobPods job={job} cluster={cluster} />
      </Section>
      <Section title={t("project:containers.title")}>
        <Containers containers={template.containers ?? []} init={template.initContainers} />
      </Section>
      <Conditions conditions={status.conditions} />
    </>
  );
}

export function CronJobOverview({ object: cron, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const namespace = cron.metadata.namespace ?? "";
  // Jobs carry no label of their CronJob: read the project's Jobs and keep those it owns.
  const jobs = useAll(Job, { cluster, namespace });
  const spec = cron.spec ?? {};
  const template = spec.jobTemplate?.spec?.template?.spec ?? {};
  const when = (time: string | undefined) => (time ? t("time.ago", { value: age(time) }) : undefined);
  return (
    <>
      <Metadata object={cron} cluster={cluster} />
      <Section title={t("project:job.cronDetails")}>
        <Facts
          items={[
            [t("project:col.status"), <StatusLabel key="status" status={workloadStatus(cron)} />],
            [t("project:col.schedule"), <code key="schedule">{spec.schedule}</code>],
            [t("project:job.timeZone"), spec.timeZone],
            [t("project:job.concurrency"), spec.concurrencyPolicy ?? "Allow"],
            [t("project:col.lastSchedule"), when(cron.status?.lastScheduleTime)],
            [t("project:job.lastSuccess"), when(cron.status?.lastSuccessfulTime)],
            [t("project:job.history"), t("project:job.historyValue", { succeeded: spec.successfulJobsHistoryLimit ?? 3, failed: spec.failedJobsHistoryLimit ?? 1 })],
          ]}
        />
      </Section>
      <Section title={t("project:job.jobs")} testId="related-jobs">
        <Fetched result={jobs}>
          {(page) => (
            <>
              <ObjectTable
                kind={Job}
                objects={newestFirst(ownedBy(page.items, cron.metadata.uid))}
                columns={jobColumns(t)}
                cluster={cluster}
                label={t("project:job.jobs")}
                empty={t("project:job.noJobs")}
              />
              <Truncated shown={page.items.length} total={page.totalItems} />
            </>
          )}
        </Fetched>
      </Section>
      <Section title={t("project:containers.title")}>
        <Containers containers={template.containers ?? []} init={template.initContainers} />
      </Section>
    </>
  );
}
