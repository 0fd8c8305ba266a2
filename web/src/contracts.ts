// The one door to the backend's names: everything crossing a process boundary comes from the
// contract's generated TypeScript module, never spelled here.
export * from "../../contracts/export/training-contracts";
