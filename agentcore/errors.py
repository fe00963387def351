"""The one error tree of agentcore: catch :class:`AgentcoreError` for every
known condition, or a family for one kind of trouble.

::

    AgentcoreError
    ├── ConfigError (ValueError)        a file, key, flag or profile: names source, key, what is allowed
    │   ├── ProfileError                    agentcore.config.profiles
    │   └── TrustStoreError                 agentcore.trust
    ├── InputError (ValueError)         text from a person or a peer that cannot be used
    │   ├── PromptError, ParamsProblem      agentcore.cli.headless, agentcore.acp.capabilities
    │   ├── RuleError                       agentcore.permissions: a permission rule's syntax
    │   ├── JsonTooDeep                     agentcore.bounded_json
    │   └── CatalogError                    agentcore.llm.catalog: the model table
    ├── ProviderError                   agentcore.llm.errors: a model call failed (retryable, status, request id)
    │   └── AuthError, RateLimitError, OverloadedError, ContextOverflowError, BadRequestError,
    │       ServerError, NetworkError, StreamError, MalformedResponseError
    ├── ProviderSelectionError          agentcore.llm.registry: no usable provider
    │   ├── NoProviderError                 nothing configured or detected
    │   ├── MissingKeyError                 the provider's key variable is not set
    │   └── KeyWithheldError                a project chose the endpoint the key would go to
    ├── SessionError                    a session or a turn
    │   ├── HistoryError                    agentcore.history
    │   ├── TurnInProgress (RuntimeError), TurnAbortedError (RuntimeError)   agentcore.turn
    │   ├── SessionNotFound (LookupError), GoalError, ThresholdError         agentcore.session
    │   ├── NoPendingTurn (LookupError)     agentcore.session.default: nothing cut off to continue
    │   ├── RevisionConflict, MetadataError, ToolVisibilityError   agentcore.session.state
    │   ├── RewindError                     agentcore.checkpoints.rewind: no such turn, a fork that cannot be made
    │   └── WebSearchUnavailable            agentcore.llm.web_search: required, but the provider/model cannot
    ├── ToolError                       a tool's environment
    │   ├── WorkspaceError                  a path outside the workspace
    │   ├── FsError                         a file backend
    │   ├── SearchError                     grep/glob
    │   └── ToolRegistryError (ValueError)  an allowlist pattern that matches nothing
    ├── StoreError                      the session store
    │   ├── JournalError → JournalCorrupt → JournalVersionError; SessionLocked
    │   ├── CheckpointError → TooManyFiles  agentcore.checkpoints.gitstore: the private snapshot store
    │   └── MediaUnavailable (agentcore.messages) → BlobError → InvalidBlobId, BlobMissing, BlobCorrupt   agentcore.store.blobs
    ├── McpError                        MCP servers
    │   ├── McpConfigError (ValueError)     agentcore.mcp.spec
    │   └── McpChannelError → McpChannelClosed   agentcore.mcp.channel: a client-hosted server's channel
    ├── VoiceError                      the voice layer (agentcore.live)
    │   └── AudioFormatError, BackendError, PhaseError, SynthesisError, SnapshotError, StateConfigError,
    │       ReactorError, ExtractionError, HandleError, CallbackError, StyleError
    ├── ProtocolError                   a protocol peer (agentcore.acp.jsonrpc)
    │   ├── JsonRpcError                    an error answer (MethodNotFound, InvalidParams, RemoteError, ...)
    │   │   └── ApprovalDenied                  agentcore.acp.approvals: a session's owner did not approve
    │   ├── ConnectionClosed                the peer went away before answering
    │   └── PeerTimedOut                    the peer did not answer in time
    ├── ServeError                      agentcore.acp.remote: agent serve cannot start or serve
    │   └── ExposureRefused, AlreadyServing, SocketUnavailable, ClientTooSlow; AttachError (agentcore.cli.serve_client)
    └── AppError                        agentcore.app: a start-up problem to show in one line

Classes live beside the code that raises them; this module holds the root,
the families and :class:`ConfigError`. Older base classes (``ValueError``,
``LookupError``, ``RuntimeError``) stay as second bases so existing ``except``
clauses keep working, but frontends catch by these types, never by message
text.
"""

from __future__ import annotations


class AgentcoreError(Exception):
    """Every error agentcore raises for a known condition."""


class ConfigError(AgentcoreError, ValueError):
    """A configuration problem, naming where (``source``), which key and what is allowed."""

    def __init__(self, message: str, *, source: str, key: str | None = None, allowed: str | None = None) -> None:
        self.source = source
        self.key = key
        self.allowed = allowed
        self.detail = message
        where = f"{source}: {key}" if key else source
        text = f"{where}: {message}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class InputError(AgentcoreError, ValueError):
    """Text a person or a protocol peer gave that cannot be used as it is."""


class SessionError(AgentcoreError):
    """A session or a turn cannot do what was asked."""


class ToolError(AgentcoreError):
    """A tool's environment refused (a path, a file backend, a search)."""


class StoreError(AgentcoreError):
    """The session store cannot load or record a session."""


class McpError(AgentcoreError):
    """An MCP server's configuration or connection."""


class VoiceError(AgentcoreError):
    """The voice layer: audio, speech backends, phases, snapshots."""


class ProtocolError(AgentcoreError):
    """A protocol peer (an ACP client) answered with an error, went away or fell silent."""
