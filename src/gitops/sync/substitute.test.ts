import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildError } from './errors.ts';
import { substitute } from './substitute.ts';

test('replaces ${VAR}, falls back to ${VAR:=default}, and $${VAR} is a literal ${VAR}', () => {
  const text =
    'host: ${HOST}\nport: ${PORT:=8080}\nempty: "${EMPTY:=x}"\nliteral: $${HOST}\ndefault-empty: "${NONE:=}"\n';
  assert.equal(
    substitute(text, { HOST: 'api.local', EMPTY: '' }, 'a.yaml'),
    'host: api.local\nport: 8080\nempty: ""\nliteral: ${HOST}\ndefault-empty: ""\n',
  );
});

test('a value wins over the default; names follow [A-Za-z_][A-Za-z0-9_]*; other ${...} forms are left alone', () => {
  assert.equal(substitute('${_a1:=no} ${B}', { _a1: 'yes', B: 'b' }, 'f'), 'yes b');
  assert.equal(substitute('echo ${x%y} ${1} ${a-b} $PLAIN', {}, 'f'), 'echo ${x%y} ${1} ${a-b} $PLAIN');
});

test('an undefined variable without default names the variable, the file and the line', () => {
  assert.throws(
    () => substitute('a: 1\nb: ${MISSING}\nc: ${OTHER}\n', { SET: 'x' }, 'apps/api.yaml'),
    (err: unknown) =>
      err instanceof BuildError &&
      err.code === 'UndefinedVariable' &&
      err.file === 'apps/api.yaml' &&
      /^apps\/api\.yaml: undefined variables "MISSING" \(line 2\), "OTHER" \(line 3\)/.test(err.message),
  );
  assert.throws(
    () => substitute('\n\n${X}', {}, 'k/kustomization.yaml', 'kustomize build output'),
    /"X" \(line 3 of the kustomize build output\)/,
  );
});

test('a variable named like an Object.prototype member is undefined unless given', () => {
  assert.throws(() => substitute('${constructor}', {}, 'f'), /undefined variable "constructor"/);
});
