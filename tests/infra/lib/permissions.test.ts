/**
 * Permissions across the stack: no IAM statement grants a wildcard action on
 * a data bucket (or a service-wide wildcard anywhere), object access is always
 * limited to a key prefix, and only the WebSocket functions may manage
 * connections, on this API only.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { logicalIdOf, policyStatements, type PolicyStatementJson, synthesizeStack } from '../support/synth';

describe('permissions', () => {
  let template: Template;
  let statements: PolicyStatementJson[];
  let dataBuckets: string[];
  let webSocketApi: string;

  beforeAll(() => {
    const synth = synthesizeStack();
    template = synth.template;
    statements = policyStatements(template);
    const { uploadsBucket, resultsBucket, modelsBucket, datasetsBucket } = synth.stack.storage;
    dataBuckets = [uploadsBucket, resultsBucket, modelsBucket, datasetsBucket].map(logicalIdOf);
    webSocketApi = logicalIdOf(synth.stack.subscriptions.webSocketApi);
  });

  const touches = (statement: PolicyStatementJson, id: string) =>
    JSON.stringify(statement.Resource).includes(`"${id}"`);

  it('finds the statements it checks', () => {
    expect(statements.length).toBeGreaterThan(20);
    expect(statements.filter((s) => dataBuckets.some((id) => touches(s, id))).length).toBeGreaterThan(5);
  });

  it('grants no wildcard action on a data bucket', () => {
    const offending = statements
      .filter((s) => dataBuckets.some((id) => touches(s, id)))
      .filter((s) => s.Action.some((action) => action.includes('*')));
    expect(offending).toEqual([]);
  });

  it('grants no service-wide wildcard action anywhere', () => {
    const offending = statements.filter((s) =>
      s.Action.some((action) => action === '*' || /^[a-z0-9-]+:\*$/.test(action)),
    );
    expect(offending).toEqual([]);
  });

  it('limits object access on data buckets to a key prefix', () => {
    const objectStatements = statements.filter(
      (s) => dataBuckets.some((id) => touches(s, id)) && s.Action.some((a) => a.endsWith('Object')),
    );
    expect(objectStatements.length).toBeGreaterThan(0);
    for (const statement of objectStatements) {
      expect(JSON.stringify(statement.Resource)).toMatch(
        /"\/(drop|uploads|saved-styles|job-inputs|rejected|styles|out|models|checkpoints|training-output|datasets)\/\*"/,
      );
    }
  });

  it('limits bucket listing to a prefix by condition', () => {
    const listing = statements.filter((s) => s.Action.includes('s3:ListBucket'));
    expect(listing.length).toBeGreaterThan(0);
    for (const statement of listing) {
      expect(statement.Condition).toEqual({ StringLike: { 's3:prefix': [expect.stringMatching(/^[a-z-]+\/\*$/)] } });
    }
  });

  it('allows execute-api:ManageConnections on the WebSocket API only', () => {
    const manage = statements.filter((s) => s.Action.some((a) => a.startsWith('execute-api:')));
    expect(manage.length).toBeGreaterThan(0);
    for (const statement of manage) {
      expect(statement.Action).toEqual(['execute-api:ManageConnections']);
      for (const resource of statement.Resource) {
        expect(JSON.stringify(resource)).toContain(`{"Ref":"${webSocketApi}"}`);
      }
    }
  });
});
