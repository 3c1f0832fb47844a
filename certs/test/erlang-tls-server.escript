#!/usr/bin/env escript
%% A mutual-TLS server on Erlang/OTP's ssl, configured the way RabbitMQ's TLS listener is
%% (verify_peer, fail_if_no_peer_cert, TLS 1.2/1.3, crl_check with a hashed CRL folder), so the
%% certs/ tests can prove Erlang accepts Warren's certificates and CRLs.
%% Usage: erlang-tls-server.escript CERT_CHAIN KEY CA_BUNDLE CRL_HASH_DIR
%% Prints "port N" once listening, then "accepted" or "refused REASON" per connection.
main([CertFile, KeyFile, CaFile, CrlDir]) ->
    {ok, _} = application:ensure_all_started(ssl),
    Options = [
        {ip, {127, 0, 0, 1}},
        {certfile, CertFile},
        {keyfile, KeyFile},
        {cacertfile, CaFile},
        {verify, verify_peer},
        {fail_if_no_peer_cert, true},
        {versions, ['tlsv1.2', 'tlsv1.3']},
        {crl_check, true},
        {crl_cache, {ssl_crl_hash_dir, {internal, [{dir, CrlDir}]}}},
        {active, false}
    ],
    {ok, Listen} = ssl:listen(0, Options),
    {ok, {_, Port}} = ssl:sockname(Listen),
    io:format("port ~p~n", [Port]),
    serve(Listen).

serve(Listen) ->
    {ok, Transport} = ssl:transport_accept(Listen),
    case ssl:handshake(Transport, 10000) of
        {ok, Socket} ->
            io:format("accepted~n"),
            %% The client may already be gone; its verdict is printed, so ignore the result.
            _ = ssl:send(Socket, <<"accepted">>),
            _ = ssl:close(Socket);
        {error, {tls_alert, {Alert, _}}} ->
            io:format("refused ~p~n", [Alert]);
        {error, Reason} ->
            io:format("refused ~p~n", [Reason])
    end,
    serve(Listen).
