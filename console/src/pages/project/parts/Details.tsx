/** The building blocks of the kinds' overviews: a titled section and a list of facts. */
import type { ReactNode } from "react";
import { DescriptionList, Title } from "@patternfly/react-core";
import { Fact } from "@/pages/resources/Overview";

export function Section({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <section data-testid={testId} style={{ marginTop: 24 }}>
      <Title headingLevel="h2" size="lg" style={{ marginBottom: 8 }}>
        {title}
      </Title>
      {children}
    </section>
  );
}

/** Facts as term and description; those without a value (`undefined`, `""`) are left out. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  const shown = items.filter(([, value]) => value !== undefined && value !== null && value !== "");
  return (
    <DescriptionList isHorizontal isCompact>
      {shown.map(([term, value]) => (
        <Fact key={term} term={term}>
          {value}
        </Fact>
      ))}
    </DescriptionList>
  );
}
