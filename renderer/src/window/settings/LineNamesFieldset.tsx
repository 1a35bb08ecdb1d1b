// Settings → Queue and DID names: "number = name" lines the popup and the log show instead of numbers.
import type { FieldRenderer } from './fields';

export function LineNamesFieldset({ field }: { field: FieldRenderer }) {
  return (
    <fieldset>
      <legend>Queue and DID names</legend>
      {field({
        path: 'lineNames',
        label: 'Names of queues, ring groups and DIDs',
        kind: 'rows',
        placeholder: '820 = Sales\n0212555000 = Support line',
        help: 'One "number = name" per line. The popup and the log show the name instead of the number.',
      })}
    </fieldset>
  );
}
