/**
 * Reads and validates a policy file. Every error names the file, line, column and field, so an
 * operator fixing a bad reload knows where to look; the version is a hash of the exact bytes.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { AuthErrorCode, AuthServiceError } from '../errors.js';
import { isKnownPlaceholder, placeholdersOf } from './patterns.js';
import { policySchema, type PolicyDocument } from './schema.js';

/** The embedded demo policy shipped with the service. */
export const demoPolicyPath = fileURLToPath(new URL('./demo.yaml', import.meta.url));

/** A validated policy document with its identity. */
export interface LoadedPolicy {
  document: PolicyDocument;
  /** `sha256:` + first 16 hex digits of the file's bytes. */
  version: string;
  /** File path the policy came from. */
  source: string;
}

type FieldPath = Array<string | number>;

/** Reads and validates a policy file; throws AuthServiceError(BadPolicy). */
export async function readPolicyFile(path: string): Promise<LoadedPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AuthServiceError(AuthErrorCode.BadPolicy, `policy ${path}: cannot read the file`, {
      cause: error,
    });
  }
  return parsePolicy(text, path);
}

/** Validates policy text; `source` names it in errors. */
export function parsePolicy(text: string, source: string): LoadedPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const at = lines.linePos(yamlError.pos[0]);
    fail(source, at, '(yaml)', yamlError.message.split('\n')[0] ?? 'invalid YAML');
  }
  const parsed = policySchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p) => typeof p !== 'symbol') as FieldPath;
    fail(source, locate(doc, lines, path), fieldName(path), issue.message);
  }
  const problem = crossCheck(parsed.data);
  if (problem)
    fail(source, locate(doc, lines, problem.path), fieldName(problem.path), problem.message);

  const version = 'sha256:' + createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { document: parsed.data, version, source };
}

function fail(
  source: string,
  at: { line: number; col: number },
  field: string,
  message: string,
): never {
  throw new AuthServiceError(
    AuthErrorCode.BadPolicy,
    `policy ${source}:${at.line}:${at.col} field "${field}": ${message}`,
  );
}

function fieldName(path: FieldPath): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

/** Position of the deepest existing node on the path (a missing field points at its parent). */
function locate(doc: Document, lines: LineCounter, path: FieldPath): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

interface Problem {
  path: FieldPath;
  message: string;
}

/** Rules zod cannot express alone: references between sections and pattern placeholders. */
function crossCheck(policy: PolicyDocument): Problem | undefined {
  return (
    checkClasses(policy) ??
    checkDenies(policy.deny, ['deny'], policy) ??
    checkJwt(policy) ??
    checkCertificates(policy) ??
    checkStaticUsers(policy)
  );
}

function checkClasses(policy: PolicyDocument): Problem | undefined {
  for (const [className, spec] of Object.entries(policy.classes)) {
    const base: FieldPath = ['classes', className];
    for (const [i, vhost] of spec.vhosts.entries()) {
      const bad = badPlaceholder(vhost);
      if (bad) return { path: [...base, 'vhosts', i], message: bad };
    }
    for (const [i, grant] of spec.grants.entries()) {
      const at: FieldPath = [...base, 'grants', i];
      if (grant.resource === 'topic' && !grant.routingKeys) {
        return { path: at, message: 'a topic grant needs routingKeys (use ["#"] for any key)' };
      }
      if (grant.resource !== 'topic' && grant.routingKeys) {
        return {
          path: [...at, 'routingKeys'],
          message: 'routingKeys only apply to resource: topic',
        };
      }
      const bad = [grant.vhost, grant.name, ...(grant.routingKeys ?? [])]
        .map(badPlaceholder)
        .find(Boolean);
      if (bad) return { path: at, message: bad };
    }
    const deny = checkDenies(spec.deny, [...base, 'deny'], policy);
    if (deny) return deny;
  }
  return undefined;
}

function checkDenies(
  rules: PolicyDocument['deny'],
  base: FieldPath,
  policy: PolicyDocument,
): Problem | undefined {
  for (const [i, rule] of rules.entries()) {
    const unknown = rule.classes?.find((c) => !(c in policy.classes));
    if (unknown) return { path: [...base, i, 'classes'], message: `unknown class "${unknown}"` };
    const bad = [rule.vhost, rule.name, ...(rule.routingKeys ?? [])]
      .map(badPlaceholder)
      .find(Boolean);
    if (bad) return { path: [...base, i], message: bad };
  }
  return undefined;
}

function badPlaceholder(pattern: string): string | undefined {
  const unknown = placeholdersOf(pattern).find((p) => !isKnownPlaceholder(p));
  return unknown
    ? `unknown placeholder {${unknown}} (use {tenant}, {username}, {service} or {claim:NAME})`
    : undefined;
}

function checkJwt(policy: PolicyDocument): Problem | undefined {
  const jwt = policy.identities.jwt;
  const unknown = jwt?.classes.findIndex((c) => !(c in policy.classes)) ?? -1;
  return unknown >= 0
    ? {
        path: ['identities', 'jwt', 'classes', unknown],
        message: `unknown class "${jwt?.classes[unknown]}"`,
      }
    : undefined;
}

function checkCertificates(policy: PolicyDocument): Problem | undefined {
  const certs = policy.identities.certificates;
  for (const [i, entry] of (certs?.entries ?? []).entries()) {
    const at: FieldPath = ['identities', 'certificates', 'entries', i];
    if (!(entry.class in policy.classes))
      return { path: [...at, 'class'], message: `unknown class "${entry.class}"` };
    if (
      entry.id.startsWith('spiffe://') &&
      !entry.id.startsWith(`spiffe://${certs?.trustDomain}/`)
    ) {
      return {
        path: [...at, 'id'],
        message: `SPIFFE ID outside trust domain ${certs?.trustDomain}`,
      };
    }
    const hasTenant =
      entry.tenant !== undefined || entry.id.includes('{tenant}') || spiffeNamespace(entry.id);
    if (!hasTenant) {
      return { path: at, message: 'set tenant: (only SPIFFE IDs and ids with {tenant} imply one)' };
    }
    if (entry.tenant !== undefined && !policy.tenants.includes(entry.tenant)) {
      return { path: [...at, 'tenant'], message: `unknown tenant "${entry.tenant}"` };
    }
    const stray = placeholdersOf(entry.id).find((p) => p !== 'tenant' && p !== 'service');
    if (stray)
      return { path: [...at, 'id'], message: `only {tenant} and {service} may appear in an id` };
  }
  return undefined;
}

function checkStaticUsers(policy: PolicyDocument): Problem | undefined {
  const seen = new Set<string>();
  for (const [i, user] of policy.identities.staticUsers.entries()) {
    const at: FieldPath = ['identities', 'staticUsers', i];
    if (seen.has(user.username))
      return { path: [...at, 'username'], message: 'duplicate username' };
    seen.add(user.username);
    if (!(user.class in policy.classes))
      return { path: [...at, 'class'], message: `unknown class "${user.class}"` };
    if (user.tenant !== undefined && !policy.tenants.includes(user.tenant))
      return { path: [...at, 'tenant'], message: `unknown tenant "${user.tenant}"` };
  }
  return undefined;
}

/** The namespace of a literal SPIFFE ID `spiffe://td/ns/<ns>/sa/<sa>`, if it has that form. */
export function spiffeNamespace(id: string): string | undefined {
  const match = /^spiffe:\/\/[^/]+\/ns\/([^/{}]+)\/sa\/[^/]+$/.exec(id);
  return match?.[1];
}
