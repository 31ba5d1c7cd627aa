/** Step 2: the pod's containers, one card each; at least one that is not an init container. */
import { Button, Card, CardBody, CardHeader, CardTitle, Form, FormHelperText, HelperText, HelperTextItem } from "@patternfly/react-core";
import { PlusCircleIcon, TrashIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { containerName, newContainer } from "./model";
import { removeAt, replaceAt, useProblem } from "./fields";
import { ContainerFields } from "./ContainerFields";
import type { StepProps } from "./steps";

export default function ContainersStep({ state, onChange }: StepProps) {
  const { t } = useTranslation();
  const { problem } = useProblem("containers");
  const remove = (index: number) => {
    const gone = state.containers[index].id;
    onChange({
      ...state,
      containers: removeAt(state.containers, index),
      // Mounts into the removed container go with it.
      volumes: state.volumes.map((volume) => ({ ...volume, containers: volume.containers.filter((id) => id !== gone) })),
    });
  };
  return (
    <Form onSubmit={(event) => event.preventDefault()}>
      {state.containers.map((container, index) => (
        <Card key={container.id} isCompact data-testid={`container-${index}`}>
          <CardHeader
            actions={{
              actions:
                state.containers.length > 1 ? (
                  <Button variant="plain" icon={<TrashIcon />} aria-label={t("wizard:container.remove", { name: containerName(state, index) })} onClick={() => remove(index)} data-testid={`container-${index}-remove`} />
                ) : null,
            }}
          >
            <CardTitle component="h2">
              {t(container.init ? "wizard:container.titleInit" : "wizard:container.title", { name: containerName(state, index) })}
            </CardTitle>
          </CardHeader>
          <CardBody>
            <ContainerFields state={state} index={index} onChange={(next) => onChange({ ...state, containers: replaceAt(state.containers, index, next) })} />
          </CardBody>
        </Card>
      ))}
      {problem && (
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant="error" data-testid="containers-error">
              {problem}
            </HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
      <div>
        <Button variant="secondary" icon={<PlusCircleIcon />} onClick={() => onChange({ ...state, containers: [...state.containers, newContainer()] })} data-testid="wizard-add-container">
          {t("wizard:container.add")}
        </Button>
      </div>
    </Form>
  );
}
