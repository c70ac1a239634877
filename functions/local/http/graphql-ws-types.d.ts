/**
 * Type bridge for `graphql-ws/use/ws`: the package publishes that entry point only through `exports`,
 * which the project's `node10` module resolution does not read. Node and jest resolve the runtime
 * file through `exports` as usual; this declaration only points the compiler at the same types.
 */
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
