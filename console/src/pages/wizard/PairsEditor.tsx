/** A list of key/value pairs (labels, annotations, a node selector), each row checked in place. */
import { Button, FormHelperText, FormSection, Grid, GridItem, HelperText, HelperTextItem } from "@patternfly/react-core";
import { MinusCircleIcon, PlusCircleIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { newPair, type Pair } from "./model";
import { TextField, removeAt, replaceAt, useProblem } from "./fields";

interface PairsEditorProps {
  /** Test ids and `validate` paths start with it: `labels-0-key`, `labels.0.key`. */
  name: "labels" | "annotations" | "nodeSelector";
  title: string;
  hint: string;
  pairs: Pair[];
  onChange(pairs: Pair[]): void;
}

export function PairsEditor({ name, title, hint, pairs, onChange }: PairsEditorProps) {
  const { t } = useTranslation();
  const { problem } = useProblem(name);
  return (
    <FormSection title={title} titleElement="h2">
      <HelperText>
        <HelperTextItem>{hint}</HelperTextItem>
      </HelperText>
      {pairs.map((pair, at) => {
        const set = (patch: Partial<Pair>) => onChange(replaceAt(pairs, at, { ...pair, ...patch }));
        return (
          <Grid hasGutter key={pair.id}>
            <GridItem md={5}>
              <TextField id={`${name}-${at}-key`} path={`${name}.${at}.key`} label={t("wizard:pairs.key")} value={pair.key} onChange={(key) => set({ key })} isRequired />
            </GridItem>
            <GridItem md={6}>
              <TextField id={`${name}-${at}-value`} path={`${name}.${at}.value`} label={t("wizard:pairs.value")} value={pair.value} onChange={(value) => set({ value })} />
            </GridItem>
            <GridItem md={1} style={{ alignSelf: "end" }}>
              <Button variant="plain" icon={<MinusCircleIcon />} aria-label={t("wizard:pairs.remove", { key: pair.key })} onClick={() => onChange(removeAt(pairs, at))} data-testid={`${name}-${at}-remove`} />
            </GridItem>
          </Grid>
        );
      })}
      {problem && (
        <FormHelperText>
          <HelperText>
            <HelperTextItem variant="error" data-testid={`${name}-error`}>
              {problem}
            </HelperTextItem>
          </HelperText>
        </FormHelperText>
      )}
      <div>
        <Button variant="link" isInline icon={<PlusCircleIcon />} onClick={() => onChange([...pairs, newPair()])} data-testid={`${name}-add`}>
          {t("wizard:pairs.add")}
        </Button>
      </div>
    </FormSection>
  );
}
