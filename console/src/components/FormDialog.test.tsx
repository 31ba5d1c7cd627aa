// The form dialogs' frame: busy while submitting, the server's words when it refuses (the
// user may try again), and nothing sent while the form is not ready.
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ApiError } from "@/lib/api/errors";
import { FormDialog } from "./FormDialog";

function open(onSubmit: () => Promise<void>, extra: { isSubmitDisabled?: boolean; errorTitle?: string } = {}) {
  const onClose = vi.fn();
  render(
    <FormDialog title="Make a thing" onClose={onClose} onSubmit={onSubmit} submitLabel="Make" submitTestId="make" errorTestId="make-error" {...extra}>
      <input aria-label="Name" />
    </FormDialog>,
  );
  return onClose;
}

it("is busy while submitting, then shows the refusal in words and may be tried again", async () => {
  let refuse!: (error: unknown) => void;
  const onSubmit = vi.fn(() => new Promise<void>((_resolve, reject) => void (refuse = reject)));
  open(onSubmit, { errorTitle: "Could not make it" });
  await userEvent.click(screen.getByTestId("make"));
  expect(screen.getByTestId("make")).toBeDisabled();
  refuse(new ApiError(409, 'things "a" already exists'));
  const error = await screen.findByTestId("make-error");
  expect(error).toHaveTextContent("Could not make it");
  expect(error).toHaveTextContent('things "a" already exists');
  expect(screen.getByTestId("make")).toBeEnabled();
  await userEvent.click(screen.getByTestId("make"));
  expect(onSubmit).toHaveBeenCalledTimes(2);
  await waitFor(() => expect(screen.getByTestId("make")).toBeDisabled());
});

it("titles the error with the server's words when no title is given", async () => {
  open(() => Promise.reject(new ApiError(403, "not yours")));
  await userEvent.click(screen.getByTestId("make"));
  expect(await screen.findByTestId("make-error")).toHaveTextContent("not yours");
});

it("sends nothing while the form is not ready, not even on Enter", () => {
  const onSubmit = vi.fn(() => Promise.resolve());
  open(onSubmit, { isSubmitDisabled: true });
  expect(screen.getByTestId("make")).toBeDisabled();
  fireEvent.submit(screen.getByLabelText("Name").closest("form") as HTMLFormElement);
  expect(onSubmit).not.toHaveBeenCalled();
});

it("cancels", async () => {
  const onClose = open(() => Promise.resolve());
  await userEvent.click(screen.getByRole("button", { name: "Cancel" }));
  expect(onClose).toHaveBeenCalled();
});
