using Orleans.Concurrency;
using Sayiir.Persistence;
using Sayiir.Runtime;

namespace Sayiir.Observability;

[StatelessWorker, Reentrant]
internal sealed class RunQueryGrain(IRunJournal journal) : Grain, IRunQueryGrain
{
    public Task<RunPage> ListAsync(RunQuery query)
    {
        query.Validate();
        return journal.ListAsync(query);
    }
}
