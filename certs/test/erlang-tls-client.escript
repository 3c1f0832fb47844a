#!/usr/bin/env escript
%% Connects to a TLS server the way RabbitMQ's HTTP auth backend (httpc over ssl) would with
%% verify_peer: the CA bundle as cacertfile and the host name checked against the server
%% certificate's SANs. Usage: erlang-tls-client.escript PORT CA_BUNDLE HOST_NAME
%% Prints "verified" or "rejected REASON" and exits.
main([PortText, CaFile, HostName]) ->
    {ok, _} = application:ensure_all_started(ssl),
    Options = [
        {verify, verify_peer},
        {cacertfile, CaFile},
        {server_name_indication, HostName},
        {versions, ['tlsv1.2', 'tlsv1.3']},
        {active, false}
    ],
    case ssl:connect({127, 0, 0, 1}, list_to_integer(PortText), Options, 10000) of
        {ok, Socket} ->
            io:format("verified~n"),
            ssl:close(Socket);
        {error, {tls_alert, {Alert, _}}} ->
            io:format("rejected ~p~n", [Alert]);
        {error, Reason} ->
            io:format("rejected ~p~n", [Reason])
    end.
