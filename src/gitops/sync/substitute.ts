// Variable substitution in manifest text before parsing, with Flux's postBuild semantics:
// `${NAME}` is the variable's value, `${NAME:=default}` the value or else the default,
// `$${NAME}` the literal text `${NAME}`. Names match [A-Za-z_][A-Za-z0-9_]*. Anything
// else that starts with `${` (e.g. a shell `${x%y}` in a ConfigMap) is left as it is.
import { BuildError } from './errors.ts';

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}\n]*))?\}/g;

/** `text` with its variable references replaced. Throws a BuildError naming `file`, every
 * undefined variable and its line when a variable has neither a value nor a default.
 * `output` names what the text is when it is not the file itself (a kustomize build). */
export function substitute(
  text: string,
  variables: Readonly<Record<string, string>>,
  file: string,
  output?: string,
): string {
  const undefinedRefs: string[] = [];
  const result = text.replace(
    REFERENCE,
    (match, name: string | undefined, fallback: string | undefined, offset: number) => {
      if (name === undefined) return '${';
      if (Object.hasOwn(variables, name)) return variables[name];
      if (fallback !== undefined) return fallback;
      undefinedRefs.push(`"${name}" (line ${lineAt(text, offset)}${output ? ` of the ${output}` : ''})`);
      return match;
    },
  );
  if (undefinedRefs.length) {
    throw new BuildError(
      'UndefinedVariable',
      `${file}: undefined variable${undefinedRefs.length > 1 ? 's' : ''} ${undefinedRefs.join(', ')}: give it a value in spec.substitute or a default with \${NAME:=default}`,
      file,
    );
  }
  return result;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
