/**
 * The workload creation wizard (`…/projects/<ns>/workloads/new?kind=Deployment`), as
 * KubeSphere has it: basic info, containers, update strategy, volumes, advanced settings, a
 * Service, an image pull secret, then a YAML review and Create. Each step is checked as it is
 * filled in (`validate`), and Next waits until it is right; the steps after a wrong one are
 * closed. Create sends the objects in order and lands on the new workload's page.
 */
import { useMemo, useRef, useState, type ReactNode } from "react";
import {
  ActionList,
  ActionListGroup,
  ActionListItem,
  Alert,
  Button,
  PageSection,
  Title,
  Wizard,
  WizardFooterWrapper,
  WizardStep,
  type CustomWizardFooterFunction,
} from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { accessKey, useCan, type AccessCheck } from "@/lib/api/access";
import { describe } from "@/lib/api/errors";
import { api } from "@/lib/api/client";
import { KINDS } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { detailPath, listPath } from "@/pages/resources/views";
import { TRAITS, initialState, kindOf, problemsOf, toObjects, validate, type StepId, type WizardState } from "./model";
import { Problems } from "./fields";
import { ProjectObjects } from "./projectObjects";
import { createAll, waitUntilListed, type Creation } from "./creating";
import { STEPS } from "./steps";
import BasicStep from "./BasicStep";
import ContainersStep from "./ContainersStep";
import StrategyStep from "./StrategyStep";
import VolumesStep from "./VolumesStep";
import AdvancedStep from "./AdvancedStep";
import ServiceStep from "./ServiceStep";
import PullSecretStep from "./PullSecretStep";
import ReviewStep from "./ReviewStep";

function kindFor(object: K8sObject) {
  const found = KINDS.find((kind) => kind.kind === object.kind && kind.apiVersion === object.apiVersion);
  if (!found) throw new Error(`no kind ${object.apiVersion}/${object.kind}`);
  return found;
}

export default function WizardPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { cluster = "", namespace = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const [state, setState] = useState<WizardState>(() => initialState(kindOf(params.get("kind"))));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [creations, setCreations] = useState<Creation[] | null>(null);
  const [creating, setCreating] = useState(false);
  const created = useRef(new Set<string>());
  const workload = TRAITS[state.kind].kind;
  const createCheck: AccessCheck = { cluster, namespace, verb: "create", group: workload.group, resource: workload.plural };
  const mayCreate = useCan(createCheck);
  // Why the answer is missing, if asking failed: Create stays closed, and the user is told.
  const accessError = useQueryClient().getQueryState(accessKey(createCheck))?.error;
  const mayCreateService = useCan({ cluster, namespace, verb: "create", resource: "services" });
  const mayCreateSecret = useCan({ cluster, namespace, verb: "create", resource: "secrets" });
  const errors = useMemo(() => validate(state), [state]);
  const objects = useMemo(() => toObjects(state, namespace), [state, namespace]);
  const kindName = t(`wizard:kinds.${state.kind}`);

  const problems = useMemo(
    () => ({
      errors,
      touched,
      touch: (path: string) => setTouched((before) => (before.has(path) ? before : new Set(before).add(path))),
    }),
    [errors, touched],
  );
  const change = (next: WizardState) => {
    if (next.kind !== state.kind) setParams({ kind: next.kind }, { replace: true });
    setState(next);
  };
  const visible = STEPS.filter((step) => step !== "service" || TRAITS[state.kind].service);
  const firstWrong = visible.findIndex((step) => problemsOf(errors, step).length > 0);
  const closed = (step: StepId) => firstWrong >= 0 && visible.indexOf(step) > firstWrong;

  const create = async () => {
    setCreating(true);
    const done = await createAll(objects, {
      post: (object) => api.post(kindFor(object).path(cluster, namespace), object),
      created: created.current,
      onProgress: setCreations,
    });
    if (!done) {
      setCreating(false);
      return;
    }
    const name = state.name.trim();
    await waitUntilListed(() => api.get(workload.listPath(cluster, namespace, name)));
    navigate(detailPath(cluster, workload.resource, name, namespace));
  };

  const footer: CustomWizardFooterFunction = (active, onNext, onBack, onClose) => {
    const wrong = problemsOf(errors, active.id as StepId);
    const review = active.id === "review";
    return (
      <WizardFooterWrapper>
        <ActionList>
          <ActionListGroup>
            <ActionListItem>
              <Button variant="secondary" onClick={onBack} isDisabled={active.index === 1 || creating} data-testid="wizard-back">
                {t("back")}
              </Button>
            </ActionListItem>
            <ActionListItem>
              {review ? (
                <Button variant="primary" onClick={() => void create()} isDisabled={mayCreate !== true || creating || firstWrong >= 0} isLoading={creating} data-testid="wizard-create">
                  {t("create")}
                </Button>
              ) : (
                <Button variant="primary" onClick={onNext} isDisabled={wrong.length > 0} data-testid="wizard-next">
                  {t("next")}
                </Button>
              )}
            </ActionListItem>
          </ActionListGroup>
          <ActionListGroup>
            <ActionListItem>
              <Button variant="link" onClick={onClose} isDisabled={creating} data-testid="wizard-cancel">
                {t("cancel")}
              </Button>
            </ActionListItem>
            {wrong.length > 0 && (
              <ActionListItem>
                <Button variant="link" onClick={() => setTouched(new Set([...touched, ...wrong]))} data-testid="wizard-show-problems">
                  {t("wizard:showProblems", { number: wrong.length })}
                </Button>
              </ActionListItem>
            )}
          </ActionListGroup>
        </ActionList>
      </WizardFooterWrapper>
    );
  };

  const step = (id: StepId, content: ReactNode) => (
    <WizardStep id={id} key={id} name={t(`wizard:step.${id}`)} isDisabled={closed(id)} isHidden={!visible.includes(id)}>
      {content}
    </WizardStep>
  );
  const props = { state, onChange: change };
  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("wizard:title", { kind: kindName })}</Title>
        {mayCreate === false && <Alert variant="warning" isInline title={t("wizard:forbidden", { kind: kindName, namespace })} data-testid="wizard-forbidden" style={{ marginTop: 16 }} />}
        {accessError && (
          <Alert variant="warning" isInline title={t("wizard:accessUnknown")} data-testid="wizard-access-error" style={{ marginTop: 16 }}>
            {describe(accessError)}
          </Alert>
        )}
      </PageSection>
      <PageSection type="wizard" isFilled aria-label={t("wizard:steps")}>
        <ProjectObjects cluster={cluster} namespace={namespace}>
          <Problems.Provider value={problems}>
            <Wizard navAriaLabel={t("wizard:steps")} height="100%" footer={footer} onClose={() => navigate(listPath(cluster, workload.resource, namespace))} data-testid="wizard">
              {step("basic", <BasicStep {...props} />)}
              {step("containers", <ContainersStep {...props} />)}
              {step("strategy", <StrategyStep {...props} />)}
              {step("volumes", <VolumesStep {...props} />)}
              {step("advanced", <AdvancedStep {...props} />)}
              {step("service", <ServiceStep {...props} mayCreateService={mayCreateService === true} />)}
              {step("pullSecret", <PullSecretStep {...props} mayCreateSecret={mayCreateSecret === true} />)}
              {step("review", <ReviewStep objects={objects} creations={creations} />)}
            </Wizard>
          </Problems.Provider>
        </ProjectObjects>
      </PageSection>
    </>
  );
}
