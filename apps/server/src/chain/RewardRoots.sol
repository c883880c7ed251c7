// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Ignis reward roots
/// @notice One Merkle root per closed reward epoch, written once by the publisher that deployed the contract.
/// The trees are OpenZeppelin StandardMerkleTrees over (uint256 epoch, string deviceId, uint256 amount): a leaf
/// is keccak256(keccak256(abi.encode(leaf))) and inner nodes hash their two children in ascending order, which
/// is what MerkleProof verifies.
contract RewardRoots {
    /// @notice The only address that may publish roots (the deployer).
    address public immutable publisher;

    /// @notice The root of each published epoch; zero while unpublished.
    mapping(uint256 epoch => bytes32 root) public roots;

    /// @notice A root was published for an epoch.
    event RootPublished(uint256 indexed epoch, bytes32 root);

    error NotPublisher(address caller);
    error EmptyRoot();
    error EpochAlreadyPublished(uint256 epoch, bytes32 root);

    constructor() {
        publisher = msg.sender;
    }

    /// @notice Records an epoch's root; an epoch's root can never be changed once set.
    function publish(uint256 epoch, bytes32 root) external {
        if (msg.sender != publisher) revert NotPublisher(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        bytes32 existing = roots[epoch];
        if (existing != bytes32(0)) revert EpochAlreadyPublished(epoch, existing);
        roots[epoch] = root;
        emit RootPublished(epoch, root);
    }

    /// @notice The StandardMerkleTree leaf hash of a device's reward in an epoch.
    function leafHash(uint256 epoch, string calldata deviceId, uint256 amount) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(epoch, deviceId, amount))));
    }

    /// @notice True when `proof` shows that `deviceId` earned `amount` in `epoch` under the published root.
    function verify(uint256 epoch, string calldata deviceId, uint256 amount, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = roots[epoch];
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leafHash(epoch, deviceId, amount));
    }
}
