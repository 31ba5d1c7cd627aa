/**
 * The project at a glance: its workloads and their health, its pods by phase, how many of
 * each other kind it holds, quota use (when it has a ResourceQuota) and its latest warnings;
 * each links into its list. Live, and server-counted: totals are one-item pages, health is
 * read from each kind's newest objects (`counts.ts`).
 */
import {
  Card,
  CardBody,
  CardFooter,
  CardTitle,
  DescriptionList,
  Flex,
  FlexItem,
  Grid,
  GridItem,
  Label,
  PageSection,
  Spinner,
  Stack,
  StackItem,
  Title,
} from "@patternfly/react-core";
import { Link, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import { describe } from "@/lib/api/errors";
import { useAll, useObject, useResourcePage } from "@/lib/api/hooks";
import { age } from "@/lib/format";
import {
  ConfigMap,
  CronJob,
  DaemonSet,
  Deployment,
  Event,
  Ingress,
  Job,
  Namespace,
  PersistentVolumeClaim,
  Pod,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
  StatefulSet,
  type Kind,
} from "@/lib/k8s/kinds";
import { workloadStatus } from "@/lib/k8s/status";
import { Fact } from "@/pages/resources/Overview";
import { lastSeen } from "../columns";
import { healthCounts, POD_PHASES } from "../health";
import { Fetched } from "../parts/Fetched";
import { ObjectLink, projectPath } from "../parts/Links";
import { QuotaBars } from "../parts/QuotaBars";
import { kindOf } from "../related";
import { SAMPLE, useSample, useTotal } from "./counts";

interface Where {
  cluster: string;
  namespace: string;
}

const WORKLOADS: [Kind, string][] = [
  [Deployment, "project:nav.deployments"],
  [StatefulSet, "project:nav.statefulsets"],
  [DaemonSet, "project:nav.daemonsets"],
  [Job, "project:nav.jobs"],
  [CronJob, "project:nav.cronjobs"],
];

const OTHERS: [Kind, string][] = [
  [Service, "project:nav.services"],
  [Ingress, "project:nav.ingresses"],
  [ConfigMap, "project:nav.configmaps"],
  [Secret, "project:nav.secrets"],
  [PersistentVolumeClaim, "project:nav.pvcs"],
  [ServiceAccount, "project:nav.serviceaccounts"],
];

/** A count, or words when it could not be read. */
function Total({ total, error }: { total?: number; error: unknown }) {
  const { t } = useTranslation();
  if (error) return <span title={describe(error)}>{t("project:overview.unavailable")}</span>;
  return total === undefined ? <Spinner size="sm" aria-label={t("loading")} /> : <>{total}</>;
}

function WorkloadRow({ kind, title, where }: { kind: Kind; title: string; where: Where }) {
  const { t } = useTranslation();
  const sample = useSample(kind, where);
  const items = sample.data?.items ?? [];
  const total = sample.data?.totalItems;
  return (
    <Fact term={<Link to={projectPath(where.cluster, where.namespace, kind.resource)} data-testid={`overview-${kind.plural}`}>{t(title)}</Link>}>
      <Flex spaceItems={{ default: "spaceItemsSm" }} alignItems={{ default: "alignItemsCenter" }} data-testid={`count-${kind.plural}`}>
        <FlexItem>
          <Total total={total} error={sample.error} />
        </FlexItem>
        {healthCounts(items, workloadStatus).map(({ status, count }) => (
          <FlexItem key={status.text}>
            <StatusLabel status={status} /> {count}
          </FlexItem>
        ))}
        {total !== undefined && total > SAMPLE && (
          <FlexItem>
            <small>{t("project:overview.sampled", { count: SAMPLE })}</small>
          </FlexItem>
        )}
      </Flex>
    </Fact>
  );
}

function CountRow({ kind, title, where }: { kind: Kind; title: string; where: Where }) {
  const { t } = useTranslation();
  const { total, error } = useTotal(kind, where);
  return (
    <Fact term={<Link to={projectPath(where.cluster, where.namespace, kind.resource)} data-testid={`overview-${kind.plural}`}>{t(title)}</Link>}>
      <span data-testid={`count-${kind.plural}`}>
        <Total total={total} error={error} />
      </span>
    </Fact>
  );
}

function PhaseCount({ phase, where }: { phase: (typeof POD_PHASES)[number]; where: Where }) {
  const { total, error } = useTotal(Pod, { ...where, fieldSelector: `status.phase=${phase.text}` });
  if (!error && !total) return null;
  return (
    <FlexItem data-testid={`pods-${phase.text}`}>
      <StatusLabel status={phase} /> <Total total={total} error={error} />
    </FlexItem>
  );
}

function PodsCard({ where }: { where: Where }) {
  const { t } = useTranslation();
  const { total, error } = useTotal(Pod, where);
  return (
    <Card isFullHeight>
      <CardTitle>{t("project:nav.pods")}</CardTitle>
      <CardBody>
        <Title headingLevel="h3" size="2xl" data-testid="count-pods">
          <Total total={total} error={error} />
        </Title>
        <Flex spaceItems={{ default: "spaceItemsMd" }} style={{ marginTop: 8 }}>
          {POD_PHASES.map((phase) => (
            <PhaseCount key={phase.text} phase={phase} where={where} />
          ))}
        </Flex>
      </CardBody>
      <CardFooter>
        <Link to={projectPath(where.cluster, where.namespace, Pod.resource)}>{t("project:overview.allPods")}</Link>
      </CardFooter>
    </Card>
  );
}

function QuotaCard({ where }: { where: Where }) {
  const { t } = useTranslation();
  const quotas = useAll(ResourceQuota, where);
  const items = quotas.data?.items ?? [];
  if (!items.length) return null;
  return (
    <GridItem md={6} xl={4}>
      <Card isFullHeight data-testid="overview-quota">
        <CardTitle>{t("project:nav.quotas")}</CardTitle>
        <CardBody>
          <Stack hasGutter>
            {items.map((quota) => (
              <StackItem key={quota.metadata.name}>
                {items.length > 1 && <Title headingLevel="h4">{quota.metadata.name}</Title>}
                <QuotaBars quota={quota} />
              </StackItem>
            ))}
          </Stack>
        </CardBody>
        <CardFooter>
          <Link to={projectPath(where.cluster, where.namespace, "quotas")}>{t("project:overview.manageQuotas")}</Link>
        </CardFooter>
      </Card>
    </GridItem>
  );
}

const WARNINGS = 5;

function WarningsCard({ where }: { where: Where }) {
  const { t } = useTranslation();
  const warnings = useResourcePage(Event, { ...where, fieldSelector: "type=Warning", page: 1, limit: WARNINGS, sortBy: "createTime", ascending: false });
  return (
    <Card isFullHeight data-testid="overview-warnings">
      <CardTitle>{t("project:overview.warnings")}</CardTitle>
      <CardBody>
        <Fetched result={warnings}>
          {(page) =>
            page.items.length ? (
              <Stack hasGutter>
                {page.items.map((event) => {
                  const involved = event.involvedObject ?? {};
                  const kind = kindOf(involved.apiVersion, involved.kind);
                  return (
                    <StackItem key={event.metadata.name}>
                      <Label isCompact color="orange">{event.reason}</Label>{" "}
                      {kind && involved.name ? <ObjectLink kind={kind} name={involved.name} namespace={where.namespace} cluster={where.cluster} /> : involved.name}{" "}
                      <small title={lastSeen(event)}>{t("time.ago", { value: age(lastSeen(event)) })}</small>
                      <div>{event.message}</div>
                    </StackItem>
                  );
                })}
              </Stack>
            ) : (
              <p>{t("project:overview.noWarnings")}</p>
            )
          }
        </Fetched>
      </CardBody>
      <CardFooter>
        <Link to={projectPath(where.cluster, where.namespace, "events?type=Warning")}>{t("project:overview.allEvents")}</Link>
      </CardFooter>
    </Card>
  );
}

export default function ProjectOverview() {
  const { t } = useTranslation();
  const { cluster = "", namespace = "" } = useParams();
  const where = { cluster, namespace };
  const project = useObject(Namespace, cluster, undefined, namespace);
  const workspace = project.data?.metadata.labels?.["atoll.io/workspace"];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("project:overview.title", { name: namespace })}</Title>
        {workspace && (
          <p>
            {t("project:overview.workspace")} <Link to={`/workspaces/${encodeURIComponent(workspace)}`}>{workspace}</Link>
          </p>
        )}
      </PageSection>
      <PageSection>
        <Grid hasGutter>
          <GridItem md={6} xl={4}>
            <Card isFullHeight data-testid="overview-workloads">
              <CardTitle>{t("project:nav.workloads")}</CardTitle>
              <CardBody>
                <DescriptionList isHorizontal isCompact>
                  {WORKLOADS.map(([kind, title]) => (
                    <WorkloadRow key={kind.resource} kind={kind} title={title} where={where} />
                  ))}
                </DescriptionList>
              </CardBody>
            </Card>
          </GridItem>
          <GridItem md={6} xl={4}>
            <PodsCard where={where} />
          </GridItem>
          <GridItem md={6} xl={4}>
            <Card isFullHeight data-testid="overview-resources">
              <CardTitle>{t("project:overview.resources")}</CardTitle>
              <CardBody>
                <DescriptionList isHorizontal isCompact>
                  {OTHERS.map(([kind, title]) => (
                    <CountRow key={kind.resource} kind={kind} title={title} where={where} />
                  ))}
                </DescriptionList>
              </CardBody>
            </Card>
          </GridItem>
          <QuotaCard where={where} />
          <GridItem md={12} xl={8}>
            <WarningsCard where={where} />
          </GridItem>
        </Grid>
      </PageSection>
    </>
  );
}
