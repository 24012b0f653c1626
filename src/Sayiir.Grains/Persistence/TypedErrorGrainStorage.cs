using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Sayiir.Persistence;

/// <summary>
/// Wraps the runs' grain storage so that a database failure reaches callers as a
/// <see cref="SayiirStorageUnavailableException"/>. The provider's own exceptions (Npgsql's) have no Orleans codec:
/// a failed state read while activating a run would otherwise reach the client as a <c>CodecNotFoundException</c>
/// that says nothing about the database. Everything else (ETag conflicts included) passes through unchanged.
/// </summary>
internal sealed class TypedErrorGrainStorage(IGrainStorage inner, string target) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>
    /// Replaces the keyed storage <paramref name="name"/> already registered with this wrapper around it;
    /// <paramref name="wrapInner"/>, when given, wraps the provider first (the group commit write path).
    /// </summary>
    public static void Decorate(IServiceCollection services, string name, string connectionString, Func<IServiceProvider, IGrainStorage, IGrainStorage>? wrapInner = null)
    {
        var original = services.LastOrDefault(d => d.IsKeyedService && d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, name))
            ?? throw new InvalidOperationException($"No grain storage named '{name}' is registered to wrap.");
        var factory = original.KeyedImplementationFactory
            ?? throw new InvalidOperationException($"The grain storage '{name}' is not registered through a factory.");
        services.Remove(original);
        var innerKey = name + ".provider";
        // The provider reads its named options by the key it is given: it keeps receiving the original name.
        services.AddKeyedSingleton<IGrainStorage>(innerKey, (sp, _) =>
        {
            var provider = (IGrainStorage)factory(sp, name);
            return wrapInner is null ? provider : wrapInner(sp, provider);
        });
        var target = PostgresSchemaInstaller.DescribeTarget(connectionString);
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, _) => new TypedErrorGrainStorage(sp.GetRequiredKeyedService<IGrainStorage>(innerKey), target));
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Translate(inner.ReadStateAsync(stateName, grainId, grainState), "read", grainId);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Translate(inner.WriteStateAsync(stateName, grainId, grainState), "write", grainId);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Translate(inner.ClearStateAsync(stateName, grainId, grainState), "clear", grainId);

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (inner is ILifecycleParticipant<ISiloLifecycle> participant) participant.Participate(lifecycle);
    }

    private async Task Translate(Task operation, string verb, GrainId grainId)
    {
        try
        {
            await operation;
        }
        catch (Exception ex) when (DatabaseCause(ex) is { } cause)
        {
            // No inner exception: it is what cannot cross the wire. Its type and message are kept in ours.
            var detail = cause is Npgsql.PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : cause.Message;
            throw new SayiirStorageUnavailableException(target,
                $"Run '{grainId.Key}': could not {verb} its state in {target}: {cause.GetType().Name}: {detail}", null);
        }
    }

    private static DbException? DatabaseCause(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is DbException db) return db;
        }

        return null;
    }
}
