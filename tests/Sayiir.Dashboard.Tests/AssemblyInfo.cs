// The workflows' tasks advance the virtual clock of the fixture that is running (Workflows.Clock), and the machine has
// two cores: the two collections (in-memory, PostgreSQL) run one after the other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
