namespace Sayiir.Tests.Infrastructure;

/// <summary>Start-up failures arrive wrapped (aggregate and inner exceptions); tests look for the one that matters.</summary>
public static class ExceptionChain
{
    public static IEnumerable<Exception> Flatten(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten)) yield return inner;
        }
    }
}
