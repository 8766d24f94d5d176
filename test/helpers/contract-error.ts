// A broken promise of the system under test (an answer the OpenAPI document does not allow, say), as opposed to a
// condition not reached yet: waitFor fails on it at once instead of polling on until its deadline.
export class ContractError extends Error {
  override name = 'ContractError';
}
